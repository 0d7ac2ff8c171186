-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 学历助推资助 (education_grants): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'education_grants'). The models choose the submissions they read.
{{ config(materialized='view') }}

select
    {{ landed_columns('education_grants') }}
from {{ source('landing', 'education_grants') }}
