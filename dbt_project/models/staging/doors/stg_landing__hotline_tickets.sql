-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 平台派单 (hotline_tickets): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'hotline_tickets'). The models choose the submissions they read.
{{ config(materialized='view') }}

select
    {{ landed_columns('hotline_tickets') }}
from {{ source('landing', 'hotline_tickets') }}
