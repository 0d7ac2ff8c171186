-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 会员信息 (members, registry, key member_id).
-- The current snapshot of every street: rows of the accepted submission with the latest
-- as_of_date on or before var('as_of_date') (same date: the later submission).
with current_submissions as (
    select submission_sha256
    from {{ ref('stg_accepted_submissions') }}
    where dataset = 'members' and is_current_snapshot
),

landed_rows as (
    select
        {{ landed_columns('members') }}
    from {{ source('landing', 'members') }}
    where _submission_sha256 in (select submission_sha256 from current_submissions)
)

select
    member_id,
    id_number_hash,
    id_number_masked,
    birth_year,
    gender,
    birth_date,
    org_id,
    street_code,
    join_date,
    status,
    worker_type,
    jingka_issued,
    model_worker,
    as_of_date,
    submission_sha256,
    ingest_seq,
    line_number
from landed_rows
