-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 学历助推资助 (education_grants): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'education_grants'). The models choose the submissions they read.
-- Ephemeral: inlined into its readers (no view that needs the ID-hashing key to open),
-- and DuckDB pushes their filters into the Parquet scan.
{{ config(materialized='ephemeral') }}

select
    {{ landed_columns('education_grants') }}
from {{ source_relation('landing', 'education_grants') }}
