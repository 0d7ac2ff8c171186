-- Versions of every member in every street from successive snapshots (SCD type 2):
-- a new version when the person (member_key) first appears in the street, reappears
-- after missing a snapshot, or changes member number, org, status, worker type, 京卡 or
-- model-worker level. valid_to is the street's first snapshot in which the version no
-- longer held (null while current).
-- Incremental per street: a run rebuilds only the streets whose snapshot timeline
-- changed (macros/incremental_rebuild_scope.sql); a version depends on nothing but its
-- own street's snapshots.

{{ incremental_by_street('members') }}

with streets_to_build as (
    {{ streets_to_build('members') }}
),

member_rows as (
    -- one row per street, snapshot and person (the 在会 row first), streets to build only
    select member_snapshots.*
    from {{ ref('int_member_snapshots') }} as member_snapshots
    where member_snapshots.is_person_primary
        and member_snapshots.street_code in (select street_code from streets_to_build)
),

{{ registry_versions(
    'member_rows', 'members', ['street_code', 'id_number_hash'],
    ['member_id', 'org_id', 'status', 'worker_type', 'jingka_issued', 'model_worker'],
    carried_columns=['id_number_masked', 'gender', 'birth_year', 'join_date']
) }},

versions_on_timeline as (
    select entity_versions.*, streets_to_build.street_timeline_key
    from entity_versions
    inner join streets_to_build
        on entity_versions.street_code = streets_to_build.street_code
)

select
    md5(street_code || '|' || id_number_hash || '|' || cast(valid_from as {{ text_type() }})) as member_version_key,
    id_number_hash as member_key,
    id_number_masked,
    street_code,
    member_id,
    street_code || ':' || org_id as org_key,
    org_id,
    status,
    worker_type,
    jingka_issued,
    model_worker,
    gender,
    birth_year,
    join_date,
    row_number() over (partition by street_code, id_number_hash order by valid_from) as version_number,
    {{ version_validity_columns() }},
    last_submission_sha256,
    street_timeline_key
from versions_on_timeline
