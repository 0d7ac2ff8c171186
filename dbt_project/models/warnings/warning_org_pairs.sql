-- Each org in its street's latest two union-registry snapshots on or before the as-of
-- date (before = the earlier, after = the later), for W06 and W07.

with params as (
    select {{ warning_as_of() }} as as_of_date
),

snapshots as (
    select * from {{ ref('int_org_snapshots') }}
),

snapshot_dates as (
    select distinct snapshots.street_code, snapshots.as_of_date
    from snapshots
    cross join params
    where snapshots.as_of_date <= params.as_of_date
),

ranked as (
    select *, row_number() over (partition by street_code order by as_of_date desc) as recency
    from snapshot_dates
),

pairs as (
    select
        street_code,
        max(case when recency = 2 then as_of_date end) as previous_snapshot,
        max(case when recency = 1 then as_of_date end) as snapshot
    from ranked
    where recency <= 2
    group by street_code
    having count(*) = 2
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
