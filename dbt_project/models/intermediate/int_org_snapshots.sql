-- Every accepted union-organisation snapshot: one row per street x as_of_date x org.
-- A full table: organisations number in the thousands even city-wide, so rebuilding is
-- cheaper than keeping it incremental.

with snapshot_rows as (
    {{ registry_snapshot_rows('union_orgs') }}
)

select
    street_code,
    as_of_date,
    org_id,
    org_name,
    employer_name,
    credit_code,
    industry,
    ownership,
    employees,
    members,
    founded_date,
    legal_person_registered,
    union_credit_code,
    has_mediation_committee,
    has_workers_congress,
    factory_affairs_open,
    is_model_enterprise,
    status,
    submission_sha256,
    ingest_seq,
    line_number
from snapshot_rows
