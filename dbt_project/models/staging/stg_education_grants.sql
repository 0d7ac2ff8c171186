-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 学历助推资助 (education_grants, event, key grant_id).
-- Upserts: the latest accepted version of each grant_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with ranked_versions as (
    {{ ranked_event_versions('education_grants', 'grant_id') }}
)

select
    grant_id,
    member_id,
    street_code,
    program,
    approved_date,
    amount,
    full_funding,
    version_count,
    first_ingest_seq,
    submission_sha256,
    ingest_seq,
    line_number
from ranked_versions
where version_rank = 1
