-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 法律服务 (legal_services, event, key service_id).
-- Upserts: the latest accepted version of each service_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
{{ latest_event_versions('legal_services') }}
