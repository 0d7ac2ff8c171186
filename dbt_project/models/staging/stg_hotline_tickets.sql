-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 平台派单 (hotline_tickets, event, key ticket_id).
-- Upserts: the latest accepted version of each ticket_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
{{ latest_event_versions('hotline_tickets') }}
