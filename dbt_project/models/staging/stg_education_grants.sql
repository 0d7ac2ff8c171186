-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 学历助推资助 (education_grants, event, key grant_id).
-- Upserts: the latest accepted version of each grant_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
{{ latest_event_versions('education_grants') }}
