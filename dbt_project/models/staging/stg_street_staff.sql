-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 街道工会工作人员 (street_staff, registry, key staff_id).
-- The current snapshot of every street: rows of the accepted submission with the latest
-- as_of_date on or before var('as_of_date') (same date: the later submission).
-- Incremental by submission (macros/registry_snapshots.sql): a run reads only the
-- snapshots that became current since the last, the post-hook drops those that stopped being.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook="{{ delete_submissions_not('street_staff', 'is_current_snapshot') }}"
) }}

{%- set new_submissions = submissions_to_add('street_staff', 'is_current_snapshot') %}

with landed_rows as (
    {{ registry_snapshot_rows('street_staff', new_only=new_submissions, flag='is_current_snapshot') }}
)

select
    staff_id,
    role,
    appointed_date,
    active,
    street_code,
    as_of_date,
    submission_sha256,
    ingest_seq,
    line_number
from landed_rows
