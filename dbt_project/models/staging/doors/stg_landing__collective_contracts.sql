-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 集体合同 (collective_contracts): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'collective_contracts'). The models choose the submissions they read.
-- Ephemeral: inlined into its readers (no view that needs the ID-hashing key to open),
-- and DuckDB pushes their filters into the Parquet scan.
{{ config(materialized='ephemeral') }}

select
    {{ landed_columns('collective_contracts') }}
from {{ source_relation('landing', 'collective_contracts') }}
