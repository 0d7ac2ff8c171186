-- The snapshots of every registry and street, in order: which as_of_dates a street
-- sent (the accepted submission of each date, on or before var('as_of_date')), the
-- snapshot before and after each. History and change models compare consecutive
-- snapshots of the same street through this calendar. A snapshot with no rows (an
-- empty list) is still a snapshot: its members have all left.

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
)

select
    dataset,
    street_code,
    as_of_date,
    submission_sha256,
    ingest_seq,
    rows_loaded,
    row_number() over street_timeline as snapshot_number,
    lag(as_of_date) over street_timeline as previous_as_of_date,
    lead(as_of_date) over street_timeline as next_as_of_date,
    lead(as_of_date) over street_timeline is null as is_current_snapshot
from effective_snapshots
window street_timeline as (partition by dataset, street_code order by as_of_date)
