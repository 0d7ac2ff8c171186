-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 法律服务 (legal_services): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'legal_services'). The models choose the submissions they read.
-- Ephemeral: inlined into its readers (no view that needs the ID-hashing key to open),
-- and DuckDB pushes their filters into the Parquet scan.
{{ config(materialized='ephemeral') }}

select
    {{ landed_columns('legal_services') }}
from {{ source_relation('landing', 'legal_services') }}
