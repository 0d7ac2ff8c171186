-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 街道工会工作人员 (street_staff): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'street_staff'). The models choose the submissions they read.
-- Ephemeral: inlined into its readers (no view that needs the ID-hashing key to open),
-- and DuckDB pushes their filters into the Parquet scan.
{{ config(materialized='ephemeral') }}

select
    {{ landed_columns('street_staff') }}
from {{ source_relation('landing', 'street_staff') }}
