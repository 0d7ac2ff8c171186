-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 基层工会组织 (union_orgs, registry, key org_id).
-- The current snapshot of every street: rows of the accepted submission with the latest
-- as_of_date on or before var('as_of_date') (same date: the later submission).
-- Incremental by submission (macros/registry_snapshots.sql): a run reads only the
-- snapshots that became current since the last, the post-hook drops those that stopped being.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook="{{ delete_submissions_not('union_orgs', 'is_current_snapshot') }}"
) }}

{%- set new_submissions = submissions_to_add('union_orgs', 'is_current_snapshot') %}

with landed_rows as (
    {{ registry_snapshot_rows('union_orgs', new_only=new_submissions, flag='is_current_snapshot') }}
)

select
    org_id,
    org_name,
    employer_name,
    credit_code,
    street_code,
    industry,
    ownership,
    employees,
    members,
    founded_date,
    legal_person_registered,
    union_credit_code,
    has_mediation_committee,
    has_workers_congress,
    factory_affairs_open,
    is_model_enterprise,
    status,
    as_of_date,
    submission_sha256,
    ingest_seq,
    line_number
from landed_rows
