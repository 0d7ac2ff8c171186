-- Every verdict of every expectation on every checked submission.
with verdicts as (
    select * from {{ source('pipeline_audit', 'quality_results') }}
    where submission_sha256 is not null
)

select
    run_id,
    try_cast(checked_at as timestamptz) as checked_at,
    submission_sha256,
    path,
    dataset,
    street_code,
    suite,
    expectation,
    "column" as column_name,
    severity,
    success,
    element_count,
    unexpected_count,
    observed_value,
    examples
from verdicts
