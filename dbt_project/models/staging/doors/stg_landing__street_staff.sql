-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 街道工会工作人员 (street_staff): every landed row of every submission, renamed and cast; the one
-- door to source('landing', 'street_staff'). The models choose the submissions they read.
{{ config(materialized='view') }}

select
    {{ landed_columns('street_staff') }}
from {{ source('landing', 'street_staff') }}
