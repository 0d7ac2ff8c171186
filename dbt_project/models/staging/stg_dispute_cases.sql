-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 劳动争议调解案件 (dispute_cases, event, key case_id).
-- Upserts: the latest accepted version of each case_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
{{ latest_event_versions('dispute_cases') }}
