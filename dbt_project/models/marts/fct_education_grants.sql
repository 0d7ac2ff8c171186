-- Grants of the members' university-study programme (学历助推), latest accepted version
-- of each. member_key links the street's member number to the person (keyed ID hash)
-- through the street's latest snapshot that lists it; null when no snapshot does.

with grants as (
    select * from {{ ref('stg_education_grants') }}
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
    {{ event_audit_columns('grants') }}
from grants
{{ left_join_member_keys('grants') }}
