-- Every submission the ingestion ledger loaded, and what the warehouse did with it:
-- included in this build (its quality verdict passed, perhaps with warnings) or left
-- out (held back by a failed critical expectation, or not yet checked). The
-- manifest_id fingerprints every loaded submission with its verdict (the indicator
-- rows' input-quality columns depend on the held-back ones too): the same inputs give
-- the same id, so two builds from the same inputs can be recognised as such.

with loaded as (
    select submission_sha256, ingest_seq, dataset, street_code, file_ref, as_of_date, rows_loaded
    from {{ ref('stg_loaded_submissions') }}
),

verdicts as (
    -- audit.quality_results has read the verdict files once already
    select
        submission_sha256,
        count(*) filter (where not success and severity = 'critical') as critical_failures,
        count(*) filter (where not success and severity <> 'critical') as warning_failures
    from {{ ref('audit_quality_results') }}
    group by 1
),

accepted as (
    select submission_sha256 from {{ ref('stg_accepted_submissions') }}
),

classified as (
    select
        loaded.*,
        coalesce(verdicts.critical_failures, 0) as critical_failures,
        coalesce(verdicts.warning_failures, 0) as warning_failures,
        accepted.submission_sha256 is not null as is_included,
        case
            when accepted.submission_sha256 is not null and coalesce(verdicts.warning_failures, 0) = 0 then 'passed'
            when accepted.submission_sha256 is not null then 'passed_with_warnings'
            when verdicts.submission_sha256 is null then 'not_checked'
            else 'held_back'
        end as quality_verdict
    from loaded
    left join verdicts
        on loaded.submission_sha256 = verdicts.submission_sha256
    left join accepted
        on loaded.submission_sha256 = accepted.submission_sha256
)

select
    {{ sha256_hex("coalesce(
        " ~ ordered_string_agg_over_all("submission_sha256 || ':' || quality_verdict", "','", 'submission_sha256') ~ ",
        ''
    )") }} as manifest_id,
    submission_sha256,
    ingest_seq,
    dataset,
    street_code,
    file_ref,
    as_of_date,
    rows_loaded,
    critical_failures,
    warning_failures,
    is_included,
    quality_verdict
from classified
