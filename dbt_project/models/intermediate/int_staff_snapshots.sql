-- Every accepted street-staff snapshot: one row per street x as_of_date x staff member
-- (names left out). A full table: a few dozen rows per street.

with snapshot_rows as (
    {{ registry_snapshot_rows('street_staff') }}
)

select
    street_code,
    as_of_date,
    staff_id,
    role,
    appointed_date,
    active,
    submission_sha256,
    ingest_seq,
    line_number
from snapshot_rows
