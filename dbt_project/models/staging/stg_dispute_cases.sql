-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 劳动争议调解案件 (dispute_cases, event, key case_id).
-- Upserts: the latest accepted version of each case_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with ranked_versions as (
    {{ ranked_event_versions('dispute_cases', 'case_id') }}
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
