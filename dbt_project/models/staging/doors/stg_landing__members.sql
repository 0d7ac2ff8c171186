-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 会员信息 (members): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'members'). The models choose the submissions they read.
{{ config(materialized='view') }}

select
    {{ landed_columns('members') }}
from {{ source('landing', 'members') }}
