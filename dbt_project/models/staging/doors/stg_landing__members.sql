-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 会员信息 (members): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'members'). The models choose the submissions they read.
-- Ephemeral: inlined into its readers (no view that needs the ID-hashing key to open),
-- and DuckDB pushes their filters into the Parquet scan.
{{ config(materialized='ephemeral') }}

select
    {{ landed_columns('members') }}
from {{ source_relation('landing', 'members') }}
