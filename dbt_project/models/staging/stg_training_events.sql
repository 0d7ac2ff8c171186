-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 职工素质活动 (training_events, event, key event_id).
-- Upserts: the latest accepted version of each event_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with ranked_versions as (
    {{ ranked_event_versions('training_events', 'event_id') }}
)

select
    event_id,
    street_code,
    event_type,
    title,
    event_date,
    venue_type,
    participants,
    version_count,
    first_ingest_seq,
    submission_sha256,
    ingest_seq,
    line_number
from ranked_versions
where version_rank = 1
