-- One row per quarantined row: where it was and every reason, never its values.
with quarantine_problems as (
    select * from {{ ref('stg_problems__row_problems') }}
    where severity = 'quarantine' and _submission_sha256 is not null
),

ledger_files as (
    select sha256, file_ref, dataset from {{ ref('stg_pipeline_audit__ingestion_ledger') }}
    where status = 'loaded'
)

select
    quarantine_problems._submission_sha256 as submission_sha256,
    ledger_files.file_ref,
    ledger_files.dataset,
    quarantine_problems._street_code as street_code,
    quarantine_problems._line_number as line_number,
    {{ ordered_list_agg(
        "coalesce(quarantine_problems." ~ adapter.quote('column') ~ ", '') || ':' || quarantine_problems.code",
        ['quarantine_problems.code', 'quarantine_problems.' ~ adapter.quote('column')]) }} as reasons,
    count(*) as reason_count
from quarantine_problems
left join ledger_files on quarantine_problems._submission_sha256 = ledger_files.sha256
group by all
