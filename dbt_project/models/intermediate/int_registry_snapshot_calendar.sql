-- The snapshots of every registry and street, in order: which as_of_dates a street
-- sent (the accepted submission of each date, on or before var('as_of_date')), the
-- snapshot before and after each. History and change models compare consecutive
-- snapshots of the same street through this calendar. A snapshot with no rows (an
-- empty list) is still a snapshot: its members have all left.
-- street_timeline_key fingerprints a street's whole timeline (every date and the
-- submission behind it): the incremental member marts store it with their rows and
-- rebuild exactly the streets whose key changed.

with effective_snapshots as (
    select
        dataset,
        street_code,
        as_of_date,
        submission_sha256,
        ingest_seq,
        rows_loaded
    from {{ ref('stg_accepted_submissions') }}
    where is_effective_snapshot
        and as_of_date <= {{ as_of_date() }}
),

street_timelines as (
    select
        dataset,
        street_code,
        md5({{ ordered_string_agg("cast(as_of_date as " ~ text_type() ~ ") || '=' || submission_sha256", "','", 'as_of_date') }})
            as street_timeline_key
    from effective_snapshots
    group by dataset, street_code
)

select
    effective_snapshots.dataset,
    effective_snapshots.street_code,
    effective_snapshots.as_of_date,
    effective_snapshots.submission_sha256,
    effective_snapshots.ingest_seq,
    effective_snapshots.rows_loaded,
    row_number() over street_timeline as snapshot_number,
    lag(effective_snapshots.as_of_date) over street_timeline as previous_as_of_date,
    lead(effective_snapshots.as_of_date) over street_timeline as next_as_of_date,
    lead(effective_snapshots.as_of_date) over street_timeline is null as is_current_snapshot,
    street_timelines.street_timeline_key
from effective_snapshots
inner join street_timelines
    on effective_snapshots.dataset = street_timelines.dataset
    and effective_snapshots.street_code = street_timelines.street_code
window street_timeline as (
    partition by effective_snapshots.dataset, effective_snapshots.street_code
    order by effective_snapshots.as_of_date
)
