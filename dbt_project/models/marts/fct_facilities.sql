-- Union facilities (职工之家, 职工书屋, 职工创新工作室): the current stage of each (latest
-- accepted version) and when it reached 验收 (the earliest 验收 date over all its
-- accepted versions, so a later correction of the record does not move it).

with facilities as (
    select * from {{ ref('stg_facilities') }}
),

acceptance as (
    select
        street_code,
        facility_id,
        min(stage_date) as accepted_date
    from {{ ref('int_facility_stage_history') }}
    where stage = '验收'
    group by street_code, facility_id
)

select
    facilities.street_code || ':' || facilities.facility_id as facility_key,
    facilities.facility_id,
    facilities.street_code,
    facilities.street_code || ':' || facilities.org_id as org_key,
    facilities.org_id,
    facilities.facility_type,
    facilities.level,
    facilities.stage,
    facilities.stage_date,
    acceptance.accepted_date is not null as is_accepted,
    acceptance.accepted_date,
    cast(date_trunc('month', acceptance.accepted_date) as date) as accepted_month,
    facilities.funding_amount,
    facilities.subsidy_amount,
    {{ event_audit_columns('facilities') }}
from facilities
left join acceptance
    on facilities.street_code = acceptance.street_code
    and facilities.facility_id = acceptance.facility_id
