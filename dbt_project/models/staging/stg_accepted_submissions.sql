-- The submissions the warehouse accepts: ledgered `loaded`, checked by the quality suites,
-- and no `critical` expectation failed. Every staging model reads landing rows only
-- through this list, so a held-back submission never reaches the marts while the other
-- streets' submissions flow on.
-- For registries it also decides which submission is a street's snapshot of a date
-- (the later one when a date was sent twice) and which is the current snapshot
-- (the latest as_of_date on or before var('as_of_date')).

with loaded_submissions as (
    select * from {{ ref('stg_loaded_submissions') }}
),

quality_verdicts as (
    select
        cast(submission_sha256 as {{ text_type() }}) as submission_sha256,
        count(*) as expectations_evaluated,
        count(*) filter (where not success and severity = 'critical') as critical_failures,
        count(*) filter (where not success and severity <> 'critical') as warning_failures,
        max(cast(checked_at as {{ text_type() }})) as checked_at
    from {{ ref('stg_pipeline_audit__quality_results') }}
    where submission_sha256 is not null
    group by 1
),

accepted as (
    select
        loaded_submissions.*,
        quality_verdicts.expectations_evaluated,
        quality_verdicts.warning_failures,
        quality_verdicts.checked_at,
        datasets.kind = 'registry' as is_registry
    from loaded_submissions
    inner join quality_verdicts
        on loaded_submissions.submission_sha256 = quality_verdicts.submission_sha256
    inner join {{ ref('datasets') }} as datasets
        on loaded_submissions.dataset = datasets.dataset
    where quality_verdicts.critical_failures = 0
),

snapshot_choice as (
    select
        *,
        is_registry and as_of_date is not null and row_number() over (
            partition by dataset, street_code, as_of_date
            order by ingest_seq desc
        ) = 1 as is_effective_snapshot
    from accepted
),

current_choice as (
    select
        *,
        is_effective_snapshot
        and as_of_date <= {{ as_of_date() }}
        and as_of_date = max(case when is_effective_snapshot and as_of_date <= {{ as_of_date() }} then as_of_date end)
            over (partition by dataset, street_code) as is_current_snapshot
    from snapshot_choice
)

select
    submission_sha256,
    dataset,
    street_code,
    ingest_seq,
    first_seen,
    file_ref,
    as_of_date,
    rows_read,
    rows_loaded,
    rows_quarantined,
    expectations_evaluated,
    warning_failures,
    checked_at,
    is_registry,
    is_effective_snapshot,
    coalesce(is_current_snapshot, false) as is_current_snapshot
from current_choice
