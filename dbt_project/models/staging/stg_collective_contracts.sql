-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 集体合同 (collective_contracts, event, key contract_id).
-- Upserts: the latest accepted version of each contract_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
{{ latest_event_versions('collective_contracts') }}
