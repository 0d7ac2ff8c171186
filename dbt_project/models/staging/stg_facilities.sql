-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 职工之家/职工书屋/创新工作室 (facilities, event, key facility_id).
-- Upserts: the latest accepted version of each facility_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with accepted_submissions as (
    select submission_sha256
    from {{ ref('stg_accepted_submissions') }}
    where dataset = 'facilities'
),

landed_rows as (
    select
        {{ landed_columns('facilities') }}
    from {{ source('landing', 'facilities') }}
    where _submission_sha256 in (select submission_sha256 from accepted_submissions)
),

ranked_versions as (
    select
        *,
        row_number() over record_versions as version_rank,
        count(*) over (partition by street_code, facility_id) as version_count,
        min(ingest_seq) over (partition by street_code, facility_id) as first_ingest_seq
    from landed_rows
    window record_versions as (
        partition by street_code, facility_id
        order by ingest_seq desc, line_number desc
    )
)

select
    facility_id,
    org_id,
    street_code,
    facility_type,
    level,
    stage,
    stage_date,
    funding_amount,
    subsidy_amount,
    version_count,
    first_ingest_seq,
    submission_sha256,
    ingest_seq,
    line_number
from ranked_versions
where version_rank = 1
