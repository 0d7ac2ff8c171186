-- Each org in its street's latest two union-registry snapshots on or before the as-of
-- date (before = the earlier, after = the later), for W06 and W07.

with snapshots as (
    select * from {{ ref('int_org_snapshots') }}
),

pairs as (
    {{ latest_two_snapshots("snapshots") }}
)

select
    pairs.street_code,
    pairs.previous_snapshot,
    pairs.snapshot,
    after.org_id,
    after.org_name,
    after.employer_name,
    after.credit_code,
    before.status as status_before,
    after.status as status_after,
    before.employees as employees_before,
    after.employees as employees_after
from pairs
inner join snapshots as before
    on before.street_code = pairs.street_code and before.as_of_date = pairs.previous_snapshot
inner join snapshots as after
    on after.street_code = pairs.street_code and after.as_of_date = pairs.snapshot
    and after.org_id = before.org_id
