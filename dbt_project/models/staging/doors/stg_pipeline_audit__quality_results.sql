-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 数据质量检查结果 (the quality verdicts): the one door to source('pipeline_audit', 'quality_results').
{{ config(materialized='ephemeral') }}

select
    run_id,
    checked_at,
    submission_sha256,
    file_ref,
    dataset,
    street_code,
    suite,
    expectation,
    {{ adapter.quote('column') }},
    severity,
    success,
    element_count,
    unexpected_count,
    observed_value,
    examples
from {{ source_relation('pipeline_audit', 'quality_results') }}
