-- Hardship registration (建档) and aid records for members in difficulty (latest accepted
-- version of each). member_key as in fct_education_grants.

with aid as (
    select * from {{ ref('stg_hardship_cases') }}
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
    {{ event_audit_columns('aid') }}
from aid
{{ left_join_member_keys('aid') }}
