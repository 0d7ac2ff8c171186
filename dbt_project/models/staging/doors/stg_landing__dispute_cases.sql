-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 劳动争议调解案件 (dispute_cases): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'dispute_cases'). The models choose the submissions they read.
-- Ephemeral: inlined into its readers (no view that needs the ID-hashing key to open),
-- and DuckDB pushes their filters into the Parquet scan.
{{ config(materialized='ephemeral') }}

select
    {{ landed_columns('dispute_cases') }}
from {{ source_relation('landing', 'dispute_cases') }}
