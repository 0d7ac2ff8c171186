-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 平台派单 (hotline_tickets, event, key ticket_id).
-- Upserts: the latest accepted version of each ticket_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with ranked_versions as (
    {{ ranked_event_versions('hotline_tickets', 'ticket_id') }}
)

select
    ticket_id,
    street_code,
    received_at,
    category,
    employer_name,
    credit_code,
    deadline_at,
    responded_at,
    closed_at,
    satisfied,
    version_count,
    first_ingest_seq,
    submission_sha256,
    ingest_seq,
    line_number
from ranked_versions
where version_rank = 1
