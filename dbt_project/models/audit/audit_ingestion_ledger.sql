-- The ledger as analysts query it: typed, with the reconciliation verdict per file.
with ledger_lines as (
    select * from {{ source('pipeline_audit', 'ingestion_ledger') }}
    where seq is not null
)

select
    seq,
    path,
    sha256,
    bytes,
    dataset,
    street_code,
    try_cast(first_seen as timestamptz) as first_seen,
    status,
    rows_read,
    rows_loaded,
    rows_quarantined,
    rows_read = rows_loaded + rows_quarantined as reconciles,
    error_code,
    error_column,
    duplicate_of,
    file_format,
    encoding,
    try_cast(as_of_date as date) as as_of_date,
    run_id
from ledger_lines
