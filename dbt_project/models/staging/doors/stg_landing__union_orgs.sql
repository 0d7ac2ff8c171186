-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 基层工会组织 (union_orgs): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'union_orgs'). The models choose the submissions they read.
-- Ephemeral: inlined into its readers (no view that needs the ID-hashing key to open),
-- and DuckDB pushes their filters into the Parquet scan.
{{ config(materialized='ephemeral') }}

select
    {{ landed_columns('union_orgs') }}
from {{ source_relation('landing', 'union_orgs') }}
