-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 职工素质活动 (training_events, event, key event_id).
-- Upserts: the latest accepted version of each event_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with accepted_submissions as (
    select submission_sha256
    from {{ ref('stg_accepted_submissions') }}
    where dataset = 'training_events'
),

landed_rows as (
    select
        {{ landed_columns('training_events') }}
    from {{ source('landing', 'training_events') }}
    where _submission_sha256 in (select submission_sha256 from accepted_submissions)
),

ranked_versions as (
    select
        *,
        row_number() over record_versions as version_rank,
        count(*) over (partition by street_code, event_id) as version_count,
        min(ingest_seq) over (partition by street_code, event_id) as first_ingest_seq
    from landed_rows
    window record_versions as (
        partition by street_code, event_id
        order by ingest_seq desc, line_number desc
    )
)

select
    event_id,
    street_code,
    event_type,
    title,
    event_date,
    venue_type,
    participants,
    version_count,
    first_ingest_seq,
    submission_sha256,
    ingest_seq,
    line_number
from ranked_versions
where version_rank = 1
