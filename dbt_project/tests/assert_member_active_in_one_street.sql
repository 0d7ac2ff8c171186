-- Cross-dataset integrity (warn): a person (keyed ID hash) is active (在会) in at most
-- one street's current members snapshot. Returns the masked ID and the streets, never
-- the ID itself.
{{ config(severity='warn') }}

with current_calendar as (
    select street_code, as_of_date
    from {{ ref('int_registry_snapshot_calendar') }}
    where dataset = 'members' and is_current_snapshot
),

current_active as (
    select member_snapshots.id_number_hash, member_snapshots.id_number_masked, member_snapshots.street_code
    from {{ ref('int_member_snapshots') }} as member_snapshots
    inner join current_calendar
        on member_snapshots.street_code = current_calendar.street_code
        and member_snapshots.as_of_date = current_calendar.as_of_date
    where member_snapshots.status = '在会'
)

select
    any_value(id_number_masked) as id_number_masked,
    string_agg(distinct street_code, ',' order by street_code) as streets
from current_active
group by id_number_hash
having count(distinct street_code) > 1
