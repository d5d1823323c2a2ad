"""``tomoni batch``: many regions or municipalities in one run, one partition per
municipality, in this process or on a Dask cluster.

- :mod:`~geo.runs.batch.config` — the batch file and the partitions it asks for;
- :mod:`~geo.runs.batch.partition` — one partition's inputs and per-unit coverage;
- :mod:`~geo.runs.batch.dask_run` — running the partitions (one process or Dask);
- :mod:`~geo.runs.batch.merge` — reading the parts back into one table.
"""
