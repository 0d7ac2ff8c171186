-- Grants of the members' university-study programme (学历助推), latest accepted version
-- of each. member_key links the street's member number to the person (keyed ID hash)
-- through the street's latest snapshot that lists it; null when no snapshot does.

with grants as (
    select * from {{ ref('stg_education_grants') }}
),

member_numbers as (
    -- only the member numbers this table needs: a semi join, not a pass over every
    -- snapshot row (tens of millions at city scale)
    select member_snapshots.street_code, member_snapshots.member_id,
        arg_max(member_snapshots.id_number_hash, member_snapshots.as_of_date) as member_key
    from {{ ref('int_member_snapshots') }} as member_snapshots
    semi join (select distinct street_code, member_id from grants) as wanted
        on member_snapshots.street_code = wanted.street_code
        and member_snapshots.member_id = wanted.member_id
    group by member_snapshots.street_code, member_snapshots.member_id
)

select
    grants.street_code || ':' || grants.grant_id as grant_key,
    grants.grant_id,
    grants.street_code,
    grants.member_id,
    member_numbers.member_key,
    grants.program,
    grants.approved_date,
    cast(date_trunc('month', grants.approved_date) as date) as approved_month,
    grants.amount,
    grants.full_funding,
    grants.version_count,
    grants.first_ingest_seq,
    grants.submission_sha256,
    grants.ingest_seq
from grants
left join member_numbers
    on grants.street_code = member_numbers.street_code
    and grants.member_id = member_numbers.member_id
