-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 职工之家/职工书屋/创新工作室 (facilities): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'facilities'). The models choose the submissions they read.
-- Ephemeral: inlined into its readers (no view that needs the ID-hashing key to open),
-- and DuckDB pushes their filters into the Parquet scan.
{{ config(materialized='ephemeral') }}

select
    {{ landed_columns('facilities') }}
from {{ source_relation('landing', 'facilities') }}
