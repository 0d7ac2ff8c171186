-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 法律服务 (legal_services, event, key service_id).
-- Upserts: the latest accepted version of each service_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with ranked_versions as (
    {{ ranked_event_versions('legal_services', 'service_id') }}
)

select
    service_id,
    street_code,
    service_date,
    service_type,
    people_served,
    version_count,
    first_ingest_seq,
    submission_sha256,
    ingest_seq,
    line_number
from ranked_versions
where version_rank = 1
