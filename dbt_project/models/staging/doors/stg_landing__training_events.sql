-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 职工素质活动 (training_events): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'training_events'). The models choose the submissions they read.
-- Ephemeral: inlined into its readers (no view that needs the ID-hashing key to open),
-- and DuckDB pushes their filters into the Parquet scan.
{{ config(materialized='ephemeral') }}

select
    {{ landed_columns('training_events') }}
from {{ source_relation('landing', 'training_events') }}
