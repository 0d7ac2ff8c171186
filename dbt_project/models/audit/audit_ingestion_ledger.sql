-- The ledger as analysts query it: typed, with the reconciliation verdict per file.
-- A file is named by its file reference (folders, a digest of the path, the extension):
-- the street's own file name, which may carry a person's name, stays in the ledger file.
with ledger_lines as (
    select * from {{ ref('stg_pipeline_audit__ingestion_ledger') }}
    where seq is not null
)

select
    seq,
    file_ref,
    sha256,
    bytes,
    dataset,
    street_code,
    try_cast(first_seen as {{ instant_type() }}) as first_seen,
    status,
    rows_read,
    rows_loaded,
    rows_quarantined,
    rows_read = rows_loaded + rows_quarantined as reconciles,
    error_code,
    error_column,
    duplicate_of_file_ref,
    file_format,
    encoding,
    try_cast(as_of_date as date) as as_of_date,
    run_id
from ledger_lines
