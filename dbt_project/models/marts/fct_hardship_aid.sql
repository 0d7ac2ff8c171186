-- Hardship registration (建档) and aid records for members in difficulty (latest accepted
-- version of each). member_key as in fct_education_grants.

with aid as (
    select * from {{ ref('stg_hardship_cases') }}
),

member_numbers as (
    {{ member_keys_of('aid') }}
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
