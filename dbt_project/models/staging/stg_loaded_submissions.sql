-- Every submission the ingestion ledger loaded, renamed and cast once: the same bytes
-- are loaded once, so should a ledger repeat an entry the first one stands. Ephemeral
-- (inlined): stg_accepted_submissions decides which of them the warehouse accepts,
-- indicator_manifest lists them all with that decision.
{{ config(materialized='ephemeral') }}

with ledger_entries as (
    select
        cast(sha256 as {{ text_type() }}) as submission_sha256,
        cast(seq as bigint) as ingest_seq,
        cast(dataset as {{ text_type() }}) as dataset,
        cast(street_code as {{ text_type() }}) as street_code,
        try_cast(as_of_date as date) as as_of_date,
        try_cast(first_seen as {{ instant_type() }}) as first_seen,
        cast(file_ref as {{ text_type() }}) as file_ref,
        cast(rows_read as bigint) as rows_read,
        cast(rows_loaded as bigint) as rows_loaded,
        cast(rows_quarantined as bigint) as rows_quarantined
    from {{ ref('stg_pipeline_audit__ingestion_ledger') }}
    where status = 'loaded'
        and sha256 is not null
        and dataset is not null
        and street_code is not null
)

select *
from ledger_entries
qualify row_number() over (partition by submission_sha256 order by ingest_seq) = 1
