-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 职工之家/职工书屋/创新工作室 (facilities, event, key facility_id).
-- Upserts: the latest accepted version of each facility_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with ranked_versions as (
    {{ ranked_event_versions('facilities', 'facility_id') }}
)

select
    facility_id,
    org_id,
    street_code,
    facility_type,
    level,
    stage,
    stage_date,
    funding_amount,
    subsidy_amount,
    version_count,
    first_ingest_seq,
    submission_sha256,
    ingest_seq,
    line_number
from ranked_versions
where version_rank = 1
