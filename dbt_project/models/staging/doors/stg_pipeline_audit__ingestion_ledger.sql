-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 入库台账 (the ingestion ledger): the one door to source('pipeline_audit', 'ingestion_ledger').
{{ config(materialized='ephemeral') }}

select
    seq,
    sha256,
    bytes,
    mtime_ns,
    dataset,
    street_code,
    first_seen,
    status,
    rows_read,
    rows_loaded,
    rows_quarantined,
    rows_warned,
    error_code,
    error_column,
    error_columns,
    file_format,
    encoding,
    as_of_date,
    landing_path,
    quarantine_path,
    problems_path,
    run_id,
    file_ref,
    duplicate_of_file_ref
from {{ source_relation('pipeline_audit', 'ingestion_ledger') }}
