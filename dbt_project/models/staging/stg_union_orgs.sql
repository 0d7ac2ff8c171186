-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 基层工会组织 (union_orgs, registry, key org_id).
-- The current snapshot of every street: rows of the accepted submission with the latest
-- as_of_date on or before var('as_of_date') (same date: the later submission).
with current_submissions as (
    select submission_sha256
    from {{ ref('stg_accepted_submissions') }}
    where dataset = 'union_orgs' and is_current_snapshot
),

landed_rows as (
    select
        {{ landed_columns('union_orgs') }}
    from {{ source('landing', 'union_orgs') }}
    where _submission_sha256 in (select submission_sha256 from current_submissions)
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
