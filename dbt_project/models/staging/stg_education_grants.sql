-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 学历助推资助 (education_grants, event, key grant_id).
-- Upserts: the latest accepted version of each grant_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with accepted_submissions as (
    select submission_sha256
    from {{ ref('stg_accepted_submissions') }}
    where dataset = 'education_grants'
),

landed_rows as (
    select
        {{ landed_columns('education_grants') }}
    from {{ source('landing', 'education_grants') }}
    where _submission_sha256 in (select submission_sha256 from accepted_submissions)
),

ranked_versions as (
    select
        *,
        row_number() over record_versions as version_rank,
        count(*) over (partition by street_code, grant_id) as version_count,
        min(ingest_seq) over (partition by street_code, grant_id) as first_ingest_seq
    from landed_rows
    window record_versions as (
        partition by street_code, grant_id
        order by ingest_seq desc, line_number desc
    )
)

select
    grant_id,
    member_id,
    street_code,
    program,
    approved_date,
    amount,
    full_funding,
    version_count,
    first_ingest_seq,
    submission_sha256,
    ingest_seq,
    line_number
from ranked_versions
where version_rank = 1
