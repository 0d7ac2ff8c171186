-- The streets (reference data), with the date of each street's current registry
-- snapshots and its collective-bargaining instructors in post (DC11).

with streets as (
    select
        code as street_code,
        name as street_name,
        pinyin as street_pinyin,
        district_code,
        district_name
    from {{ ref('streets') }}
),

current_snapshots as (
    select
        street_code,
        max(case when dataset = 'union_orgs' then as_of_date end) as union_orgs_as_of_date,
        max(case when dataset = 'members' then as_of_date end) as members_as_of_date,
        max(case when dataset = 'street_staff' then as_of_date end) as street_staff_as_of_date
    from {{ ref('int_registry_snapshot_calendar') }}
    where is_current_snapshot
    group by street_code
),

current_staff as (
    select
        street_code,
        count(*) filter (where active) as active_staff,
        count(*) filter (where active and role = '集体协商专职指导员') as active_bargaining_instructors
    from {{ ref('stg_street_staff') }}
    group by street_code
)

select
    streets.street_code,
    streets.street_name,
    streets.street_pinyin,
    streets.district_code,
    streets.district_name,
    current_snapshots.union_orgs_as_of_date,
    current_snapshots.members_as_of_date,
    current_snapshots.street_staff_as_of_date,
    coalesce(current_staff.active_staff, 0) as active_staff,
    coalesce(current_staff.active_bargaining_instructors, 0) as active_bargaining_instructors
from streets
left join current_snapshots on streets.street_code = current_snapshots.street_code
left join current_staff on streets.street_code = current_staff.street_code
