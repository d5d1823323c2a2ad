"""The hazard kinds: their keys, the GSI column of each, their labels and the default one.

Kept apart from :mod:`layers.shelters` (which reads the GSI files with pandas) so that a
command's options (``--hazard``, its default) are known without importing pandas:
``tomoni --help`` stays light.
"""

from __future__ import annotations

__all__ = ["DEFAULT_HAZARD", "HAZARDS", "HAZARD_LABELS"]

HAZARDS: dict[str, str] = {
    "flood": "洪水",
    "landslide": "崖崩れ、土石流及び地滑り",
    "storm_surge": "高潮",
    "earthquake": "地震",
    "tsunami": "津波",
    "fire": "大規模な火事",
    "inland_flood": "内水氾濫",
    "volcano": "火山現象",
}
"""Canonical hazard keys and the GSI column for each."""

HAZARD_LABELS: dict[str, str] = {**HAZARDS, "landslide": "土砂災害"}
"""Short Japanese labels for the UI: the GSI column names, the landslide one shortened."""

DEFAULT_HAZARD = "flood"
"""The hazard every page, command and report opens on until the user chooses another
(Akita's most frequent disaster), so the same choices give the same figures everywhere."""
