-- Membership events, found by comparing each street's consecutive members snapshots
-- (one row per event):
--   joined              active in a snapshot, absent from the street's previous one, and
--                       not active in another street before
--   transferred_street  the same person (keyed ID hash) arrives active in this street and
--                       was last seen active in another street's earlier snapshot; the
--                       departure from that street is this event, not a `left`
--   left                active in a snapshot and missing from the street's next one, or
--                       status changed from 在会 to 退会 / 转出 / 去世
--   transferred_org     active in both snapshots of the street, org_id changed
--   status_changed      any other change of status (e.g. 退会 -> 在会)
-- A street's first snapshot is its baseline: it produces no events.
-- Incremental per person: a person's events depend on their rows in every street (a
-- transfer between streets), so a run recomputes every event of the persons a changed
-- street lists or whose events involve it, and nobody else's
-- (macros/incremental_rebuild_scope.sql). A street with no events yet (one snapshot)
-- counts as changed in every run, so its persons are recomputed each time.

{{ appended_incrementally(pre_hook=[
    "{{ create_rebuild_scope(member_changes_rebuild_scope()) }}",
    "{{ delete_rebuild_scope() }}",
]) }}

with member_calendar as (
    select street_code, as_of_date, previous_as_of_date, next_as_of_date, street_timeline_key
    from {{ ref('int_registry_snapshot_calendar') }}
    where dataset = 'members'
),

member_rows as (
    -- one row per street, snapshot and person, the 在会 row first
    select
        member_snapshots.street_code,
        member_snapshots.as_of_date,
        member_snapshots.id_number_hash as member_key,
        member_snapshots.id_number_masked,
        member_snapshots.member_id,
        member_snapshots.org_id,
        member_snapshots.status,
        member_snapshots.worker_type,
        member_calendar.previous_as_of_date,
        member_calendar.next_as_of_date
    from {{ ref('int_member_snapshots') }} as member_snapshots
    inner join member_calendar
        on member_snapshots.street_code = member_calendar.street_code
        and member_snapshots.as_of_date = member_calendar.as_of_date
    where member_snapshots.is_person_primary
        {{- in_rebuild_scope('member_snapshots.id_number_hash', member_changes_rebuild_scope()) }}
),

rows_with_previous as (
    -- every row of a snapshot that has a previous snapshot, with the person's row in it
    select
        current_rows.*,
        previous_rows.member_key is not null as in_previous_snapshot,
        previous_rows.member_id as previous_member_id,
        previous_rows.org_id as previous_org_id,
        previous_rows.status as previous_status
    from member_rows as current_rows
    left join member_rows as previous_rows
        on previous_rows.street_code = current_rows.street_code
        and previous_rows.as_of_date = current_rows.previous_as_of_date
        and previous_rows.member_key = current_rows.member_key
    where current_rows.previous_as_of_date is not null
),

arrivals as (
    select * from rows_with_previous
    where not in_previous_snapshot and status = {{ active_member_status() }}
),

arrival_origins as (
    -- for each arrival, the other street where the person was last seen active before
    select
        arrivals.street_code,
        arrivals.as_of_date,
        arrivals.member_key,
        origin_rows.street_code as from_street_code,
        origin_rows.as_of_date as from_as_of_date,
        origin_rows.org_id as from_org_id
    from arrivals
    inner join member_rows as origin_rows
        on origin_rows.member_key = arrivals.member_key
        and origin_rows.street_code <> arrivals.street_code
        and origin_rows.as_of_date < arrivals.as_of_date
        and origin_rows.status = {{ active_member_status() }}
    qualify row_number() over (
        partition by arrivals.street_code, arrivals.as_of_date, arrivals.member_key
        order by origin_rows.as_of_date desc, origin_rows.street_code
    ) = 1
),

missing_departures as (
    -- active in a snapshot, absent from the street's next one
    select departed_rows.*
    from member_rows as departed_rows
    left join member_rows as next_rows
        on next_rows.street_code = departed_rows.street_code
        and next_rows.as_of_date = departed_rows.next_as_of_date
        and next_rows.member_key = departed_rows.member_key
    where departed_rows.next_as_of_date is not null
        and departed_rows.status = {{ active_member_status() }}
        and next_rows.member_key is null
),

arrival_events as (
    select
        case when arrival_origins.from_street_code is null then 'joined' else 'transferred_street' end as event_type,
        case when arrival_origins.from_street_code is null then 'new_in_snapshot' else 'seen_in_other_street' end as event_reason,
        arrivals.member_key,
        arrivals.id_number_masked,
        arrivals.member_id,
        arrivals.worker_type,
        arrivals.street_code,
        arrival_origins.from_street_code,
        arrivals.street_code as to_street_code,
        arrival_origins.from_org_id,
        arrivals.org_id as to_org_id,
        case when arrival_origins.from_street_code is not null then {{ active_member_status() }} end as from_status,
        arrivals.status as to_status,
        coalesce(arrival_origins.from_as_of_date, arrivals.previous_as_of_date) as from_snapshot_date,
        arrivals.as_of_date as to_snapshot_date
    from arrivals
    left join arrival_origins
        on arrivals.street_code = arrival_origins.street_code
        and arrivals.as_of_date = arrival_origins.as_of_date
        and arrivals.member_key = arrival_origins.member_key
),

missing_events as (
    select
        'left' as event_type,
        'missing_from_snapshot' as event_reason,
        member_key,
        id_number_masked,
        member_id,
        worker_type,
        street_code,
        street_code as from_street_code,
        cast(null as {{ text_type() }}) as to_street_code,
        org_id as from_org_id,
        cast(null as {{ text_type() }}) as to_org_id,
        status as from_status,
        cast(null as {{ text_type() }}) as to_status,
        as_of_date as from_snapshot_date,
        next_as_of_date as to_snapshot_date
    from missing_departures
    where not exists (
        select 1 from arrival_origins
        where arrival_origins.member_key = missing_departures.member_key
            and arrival_origins.from_street_code = missing_departures.street_code
            and arrival_origins.from_as_of_date = missing_departures.as_of_date
    )
),

in_street_events as (
    select
        case
            when previous_status = {{ active_member_status() }} and status = {{ active_member_status() }} then 'transferred_org'
            when previous_status = {{ active_member_status() }} then 'left'
            else 'status_changed'
        end as event_type,
        case
            when previous_status = {{ active_member_status() }} and status = {{ active_member_status() }} then 'org_changed'
            else 'status_' || status
        end as event_reason,
        member_key,
        id_number_masked,
        member_id,
        worker_type,
        street_code,
        street_code as from_street_code,
        street_code as to_street_code,
        previous_org_id as from_org_id,
        org_id as to_org_id,
        previous_status as from_status,
        status as to_status,
        previous_as_of_date as from_snapshot_date,
        as_of_date as to_snapshot_date
    from rows_with_previous
    where in_previous_snapshot
        and (
            previous_status is distinct from status
            or (previous_status = {{ active_member_status() }} and status = {{ active_member_status() }} and previous_org_id is distinct from org_id)
        )
        -- 转出 to a street where the person then arrives: the transfer event covers it
        and not (
            previous_status = {{ active_member_status() }} and status = '转出'
            and exists (
                select 1 from arrival_origins
                where arrival_origins.member_key = rows_with_previous.member_key
                    and arrival_origins.from_street_code = rows_with_previous.street_code
                    and arrival_origins.from_as_of_date = rows_with_previous.previous_as_of_date
            )
        )
),

all_events as (
    select * from arrival_events
    union all
    select * from missing_events
    union all
    select * from in_street_events
),

events_on_timeline as (
    select all_events.*, street_timelines.street_timeline_key
    from all_events
    inner join (select distinct street_code, street_timeline_key from member_calendar) as street_timelines
        on all_events.street_code = street_timelines.street_code
)

select
    md5(concat_ws('|', event_type, member_key, street_code, coalesce(from_street_code, ''),
        cast(from_snapshot_date as {{ text_type() }}), cast(to_snapshot_date as {{ text_type() }}))) as event_key,
    event_type,
    event_reason,
    to_snapshot_date as event_date,
    member_key,
    id_number_masked,
    member_id,
    worker_type,
    street_code,
    from_street_code,
    to_street_code,
    case when from_street_code is not null and from_org_id is not null then from_street_code || ':' || from_org_id end as from_org_key,
    case when to_street_code is not null and to_org_id is not null then to_street_code || ':' || to_org_id end as to_org_key,
    from_org_id,
    to_org_id,
    from_status,
    to_status,
    from_snapshot_date,
    to_snapshot_date,
    street_timeline_key
from events_on_timeline{{ in_rebuild_streets('events_on_timeline.street_code', member_changes_rebuild_scope()) }}
