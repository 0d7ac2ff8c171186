-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 行级问题清单 (the row problems): the one door to source('problems', 'row_problems').
{{ config(materialized='ephemeral') }}

select
    _line_number,
    {{ adapter.quote('column') }},
    code,
    severity,
    _submission_sha256,
    _street_code
from {{ source_relation('problems', 'row_problems') }}
