-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 平台派单 (hotline_tickets): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'hotline_tickets'). The models choose the submissions they read.
-- Ephemeral: inlined into its readers (no view that needs the ID-hashing key to open),
-- and DuckDB pushes their filters into the Parquet scan.
{{ config(materialized='ephemeral') }}

select
    {{ landed_columns('hotline_tickets') }}
from {{ source_relation('landing', 'hotline_tickets') }}
