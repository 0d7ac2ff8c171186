-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 困难职工帮扶 (hardship_cases, event, key aid_id).
-- Upserts: the latest accepted version of each aid_id per street (highest ingest_seq,
-- then highest line number); version_count and first_ingest_seq keep the history visible.
with ranked_versions as (
    {{ ranked_event_versions('hardship_cases', 'aid_id') }}
)

select
    aid_id,
    member_id,
    street_code,
    cause,
    aid_type,
    aid_date,
    aid_amount,
    version_count,
    first_ingest_seq,
    submission_sha256,
    ingest_seq,
    line_number
from ranked_versions
where version_rank = 1
