-- The union's active members now: status 在会 in their street's current members snapshot
-- (latest on or before var('as_of_date')). One row per person (member_key = keyed hash
-- of the resident ID). No name, raw ID number or phone: a masked ID only. A person
-- listed as active by two streets at once (a data problem, see the integrity tests)
-- appears once, under the most recent snapshot; active_street_count shows it.
-- Incremental per person, like fct_member_changes: a run recomputes the persons a
-- changed street lists now or listed before, and those listed by several streets
-- (macros/incremental_rebuild_scope.sql).

{{ appended_incrementally(pre_hook=[
    "{{ create_rebuild_scope(current_members_rebuild_scope()) }}",
    "{{ delete_rebuild_scope() }}",
]) }}

with current_calendar as (
    select street_code, as_of_date, street_timeline_key
    from {{ ref('int_registry_snapshot_calendar') }}
    where dataset = 'members' and is_current_snapshot
),

current_active_rows as (
    select member_snapshots.*, current_calendar.street_timeline_key
    from {{ ref('int_member_snapshots') }} as member_snapshots
    inner join current_calendar
        on member_snapshots.street_code = current_calendar.street_code
        and member_snapshots.as_of_date = current_calendar.as_of_date
    where member_snapshots.status = {{ active_member_status() }}
        {{- in_rebuild_scope('member_snapshots.id_number_hash', current_members_rebuild_scope()) }}
),

chosen_rows as (
    -- a person is active at most once per street snapshot (the quality gate enforces
    -- it), so the rows per person count the streets listing them
    select
        *,
        {{ count_over_window('person_rows', 'partition by id_number_hash') }} as active_street_count
    from current_active_rows
    window person_rows as (
        partition by id_number_hash
        order by as_of_date desc, ingest_seq desc, street_code, line_number desc
        {{ whole_partition_frame() }}
    )
    qualify row_number() over person_rows = 1
)

select
    chosen_rows.id_number_hash as member_key,
    chosen_rows.id_number_masked,
    chosen_rows.street_code,
    chosen_rows.member_id,
    chosen_rows.street_code || ':' || chosen_rows.org_id as org_key,
    chosen_rows.org_id,
    chosen_rows.gender,
    chosen_rows.birth_year,
    chosen_rows.join_date,
    chosen_rows.status,
    chosen_rows.worker_type,
    chosen_rows.jingka_issued,
    chosen_rows.model_worker,
    chosen_rows.model_worker <> '无' as is_model_worker,
    chosen_rows.as_of_date as snapshot_as_of_date,
    chosen_rows.active_street_count,
    chosen_rows.submission_sha256,
    chosen_rows.street_timeline_key
from chosen_rows{{ in_rebuild_streets('chosen_rows.street_code', current_members_rebuild_scope()) }}
