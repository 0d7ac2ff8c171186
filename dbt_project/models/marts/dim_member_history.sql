-- Versions of every member in every street from successive snapshots (SCD type 2):
-- a new version when the person (member_key) first appears in the street, reappears
-- after missing a snapshot, or changes member number, org, status, worker type, 京卡 or
-- model-worker level. valid_to is the street's first snapshot in which the version no
-- longer held (null while current).

with member_rows as (
    -- one row per street, snapshot and person (the 在会 row first)
    select * from {{ ref('int_member_snapshots') }}
    where is_person_primary
),

{{ registry_versions(
    'member_rows', 'members', ['street_code', 'id_number_hash'],
    ['member_id', 'org_id', 'status', 'worker_type', 'jingka_issued', 'model_worker'],
    carried_columns=['id_number_masked', 'gender', 'birth_year', 'join_date']
) }}

select
    md5(street_code || '|' || id_number_hash || '|' || cast(valid_from as varchar)) as member_version_key,
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
    valid_from,
    valid_to,
    last_seen_as_of_date,
    snapshots_seen,
    valid_to is null as is_current,
    ended_by,
    last_submission_sha256
from entity_versions
