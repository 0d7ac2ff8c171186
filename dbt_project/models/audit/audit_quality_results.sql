-- Every verdict of every expectation on every checked submission. The file reference
-- comes from the ledger (verdict files written before it existed have none).
with verdicts as (
    select * from {{ ref('stg_pipeline_audit__quality_results') }}
    where submission_sha256 is not null
),

ledger_files as (
    select sha256, file_ref from {{ ref('stg_pipeline_audit__ingestion_ledger') }}
    where status = 'loaded' and sha256 is not null
    qualify row_number() over (partition by sha256 order by seq) = 1
)

select
    verdicts.run_id,
    try_cast(verdicts.checked_at as {{ instant_type() }}) as checked_at,
    verdicts.submission_sha256,
    ledger_files.file_ref,
    verdicts.dataset,
    verdicts.street_code,
    verdicts.suite,
    verdicts.expectation,
    verdicts.{{ adapter.quote('column') }} as column_name,
    verdicts.severity,
    verdicts.success,
    verdicts.element_count,
    verdicts.unexpected_count,
    verdicts.observed_value,
    verdicts.examples
from verdicts
left join ledger_files on verdicts.submission_sha256 = ledger_files.sha256
