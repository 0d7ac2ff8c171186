"""The warehouse layer: the dbt project's inputs and its generated sources.

- :mod:`.bootstrap` makes sure every file the dbt sources read exists (typed, possibly
  empty) before a build;
- :mod:`.dbt_sources` renders the dbt files that are derived from the contract
  (sources, staging models and their docs/tests, reference seeds).

The ID-number hashing key never reaches dbt: landing writes the keyed hashes
(:mod:`pipelines.ingest.pii_columns`) and the models read them.
"""
