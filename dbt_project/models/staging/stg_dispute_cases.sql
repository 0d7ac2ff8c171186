-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 劳动争议调解案件 (dispute_cases, event, key case_id).
-- Upserts: the latest accepted version of each case_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with accepted_submissions as (
    select submission_sha256
    from {{ ref('stg_accepted_submissions') }}
    where dataset = 'dispute_cases'
),

landed_rows as (
    select
        {{ landed_columns('dispute_cases') }}
    from {{ source('landing', 'dispute_cases') }}
    where _submission_sha256 in (select submission_sha256 from accepted_submissions)
),

ranked_versions as (
    select
        *,
        row_number() over record_versions as version_rank,
        count(*) over (partition by street_code, case_id) as version_count,
        min(ingest_seq) over (partition by street_code, case_id) as first_ingest_seq
    from landed_rows
    window record_versions as (
        partition by street_code, case_id
        order by ingest_seq desc, line_number desc
    )
)

select
    case_id,
    street_code,
    employer_name,
    credit_code,
    org_id,
    received_date,
    dispute_type,
    workers_involved,
    amount_claimed,
    status,
    closed_date,
    amount_settled,
    version_count,
    first_ingest_seq,
    submission_sha256,
    ingest_seq,
    line_number
from ranked_versions
where version_rank = 1
