-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 困难职工帮扶 (hardship_cases): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'hardship_cases'). The models choose the submissions they read.
{{ config(materialized='view') }}

select
    {{ landed_columns('hardship_cases') }}
from {{ source('landing', 'hardship_cases') }}
