-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 集体合同 (collective_contracts, event, key contract_id).
-- Upserts: the latest accepted version of each contract_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with ranked_versions as (
    {{ ranked_event_versions('collective_contracts', 'contract_id') }}
)

select
    contract_id,
    org_id,
    street_code,
    contract_type,
    signed_date,
    start_date,
    end_date,
    employees_covered,
    wage_increase_pct,
    standardized,
    renews_contract_id,
    version_count,
    first_ingest_seq,
    submission_sha256,
    ingest_seq,
    line_number
from ranked_versions
where version_rank = 1
