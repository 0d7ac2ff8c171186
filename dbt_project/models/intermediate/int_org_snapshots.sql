-- Every accepted union-organisation snapshot: one row per street x as_of_date x org.
-- A full table: organisations number in the thousands even city-wide, so rebuilding is
-- cheaper than keeping it incremental.

with snapshot_rows as (
    {{ registry_snapshot_rows('union_orgs') }}
)

select
    {{- column_list(staged_column_names('union_orgs') + landing_audit_column_names()) }}
from snapshot_rows
