-- Membership over time: for every street snapshot (on or before var('as_of_date')),
-- org and worker type, the listed members, the active (在会) members and the active
-- members holding the 京卡 (Beijing union member service card).
-- Incremental per street, like dim_member_history: a run recounts only the streets
-- whose snapshot timeline changed (macros/incremental_rebuild_scope.sql).

{{ incremental_by_street('members') }}

with streets_to_build as (
    {{ streets_to_build('members') }}
),

member_calendar as (
    select calendar.street_code, calendar.as_of_date, calendar.is_current_snapshot, calendar.street_timeline_key
    from {{ ref('int_registry_snapshot_calendar') }} as calendar
    where calendar.dataset = 'members'
        and calendar.street_code in (select street_code from streets_to_build)
),

member_rows as (
    select member_snapshots.*, member_calendar.is_current_snapshot, member_calendar.street_timeline_key
    from {{ ref('int_member_snapshots') }} as member_snapshots
    inner join member_calendar
        on member_snapshots.street_code = member_calendar.street_code
        and member_snapshots.as_of_date = member_calendar.as_of_date
),

counts as (
    select
        street_code,
        as_of_date,
        org_id,
        worker_type,
        any_value(is_current_snapshot) as is_current_snapshot,
        any_value(street_timeline_key) as street_timeline_key,
        count(*) as listed_members,
        count(*) filter (where status = {{ active_member_status() }}) as active_members,
        count(*) filter (where status = {{ active_member_status() }} and jingka_issued) as jingka_holders,
        count(*) filter (where status = {{ active_member_status() }} and model_worker <> '无') as model_workers,
        count(*) filter (where status = {{ active_member_status() }} and gender = '女') as active_women
    from member_rows
    group by street_code, as_of_date, org_id, worker_type
)

select
    street_code,
    as_of_date,
    street_code || ':' || org_id as org_key,
    org_id,
    worker_type,
    is_current_snapshot,
    listed_members,
    active_members,
    jingka_holders,
    model_workers,
    active_women,
    jingka_holders / nullif(active_members, 0) as jingka_coverage,
    street_timeline_key
from counts
