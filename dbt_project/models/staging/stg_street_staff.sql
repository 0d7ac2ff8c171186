-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 街道工会工作人员 (street_staff, registry, key staff_id).
-- The current snapshot of every street: rows of the accepted submission with the latest
-- as_of_date on or before var('as_of_date') (same date: the later submission).
with current_submissions as (
    select submission_sha256
    from {{ ref('stg_accepted_submissions') }}
    where dataset = 'street_staff' and is_current_snapshot
),

landed_rows as (
    select
        {{ landed_columns('street_staff') }}
    from {{ source('landing', 'street_staff') }}
    where _submission_sha256 in (select submission_sha256 from current_submissions)
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
