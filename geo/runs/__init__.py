"""Whole-region runs: every analysis of a region for its report and export
(:mod:`geo.runs.region_results`), and many regions or municipalities in one batch
(:mod:`geo.runs.batch`)."""
