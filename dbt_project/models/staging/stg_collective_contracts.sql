-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 集体合同 (collective_contracts, event, key contract_id).
-- Upserts: the latest accepted version of each contract_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with accepted_submissions as (
    select submission_sha256
    from {{ ref('stg_accepted_submissions') }}
    where dataset = 'collective_contracts'
),

landed_rows as (
    select
        {{ landed_columns('collective_contracts') }}
    from {{ source('landing', 'collective_contracts') }}
    where _submission_sha256 in (select submission_sha256 from accepted_submissions)
),

ranked_versions as (
    select
        *,
        row_number() over record_versions as version_rank,
        count(*) over (partition by street_code, contract_id) as version_count,
        min(ingest_seq) over (partition by street_code, contract_id) as first_ingest_seq
    from landed_rows
    window record_versions as (
        partition by street_code, contract_id
        order by ingest_seq desc, line_number desc
    )
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
