-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 职工素质活动 (training_events): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'training_events'). The models choose the submissions they read.
{{ config(materialized='view') }}

select
    {{ landed_columns('training_events') }}
from {{ source('landing', 'training_events') }}
