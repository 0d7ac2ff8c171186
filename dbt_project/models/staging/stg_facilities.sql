-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 职工之家/职工书屋/创新工作室 (facilities, event, key facility_id).
-- Upserts: the latest accepted version of each facility_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
{{ latest_event_versions('facilities') }}
