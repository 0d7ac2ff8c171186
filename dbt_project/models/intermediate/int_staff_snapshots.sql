-- Every accepted street-staff snapshot: one row per street x as_of_date x staff member
-- (names left out). A full table: a few dozen rows per street.

with snapshot_rows as (
    {{ registry_snapshot_rows('street_staff') }}
)

select
    {{- column_list(staged_column_names('street_staff') + landing_audit_column_names()) }}
from snapshot_rows
