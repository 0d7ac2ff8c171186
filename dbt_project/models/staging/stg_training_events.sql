-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 职工素质活动 (training_events, event, key event_id).
-- Upserts: the latest accepted version of each event_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
{{ latest_event_versions('training_events') }}
