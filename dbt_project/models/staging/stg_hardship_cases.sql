-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 困难职工帮扶 (hardship_cases, event, key aid_id).
-- Upserts: the latest accepted version of each aid_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
{{ latest_event_versions('hardship_cases') }}
