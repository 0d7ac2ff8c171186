-- Hardship registration (建档) and aid records for members in difficulty (latest accepted
-- version of each). member_key as in fct_education_grants.

with aid as (
    select * from {{ ref('stg_hardship_cases') }}
),

member_numbers as (
    -- only the member numbers this table needs: a semi join, not a pass over every
    -- snapshot row (tens of millions at city scale)
    select member_snapshots.street_code, member_snapshots.member_id,
        arg_max(member_snapshots.id_number_hash, member_snapshots.as_of_date) as member_key
    from {{ ref('int_member_snapshots') }} as member_snapshots
    semi join (select distinct street_code, member_id from aid) as wanted
        on member_snapshots.street_code = wanted.street_code
        and member_snapshots.member_id = wanted.member_id
    group by member_snapshots.street_code, member_snapshots.member_id
)

select
    aid.street_code || ':' || aid.aid_id as aid_key,
    aid.aid_id,
    aid.street_code,
    aid.member_id,
    member_numbers.member_key,
    aid.cause,
    aid.aid_type,
    aid.aid_type = '建档' as is_registration,
    aid.aid_date,
    cast(date_trunc('month', aid.aid_date) as date) as aid_month,
    aid.aid_amount,
    aid.version_count,
    aid.first_ingest_seq,
    aid.submission_sha256,
    aid.ingest_seq
from aid
left join member_numbers
    on aid.street_code = member_numbers.street_code
    and aid.member_id = member_numbers.member_id
