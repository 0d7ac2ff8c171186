"""The warehouse layer: the dbt project's inputs, its generated sources and its plugin.

- :mod:`.bootstrap` makes sure every file the dbt sources read exists (typed, possibly
  empty) before a build;
- :mod:`.dbt_sources` renders the dbt files that are derived from the contract
  (sources, staging models and their docs/tests, reference seeds);
- :mod:`.dbt_pii` is the dbt-duckdb plugin that hands the ID-number hashing key to
  DuckDB without it ever appearing in SQL text, compiled files or logs.
"""
