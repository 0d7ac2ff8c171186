-- Legal services delivered by the streets (latest accepted version of each record).
-- The lawyer's name is personal data and stays out of the warehouse.

select
    street_code || ':' || service_id as service_key,
    service_id,
    street_code,
    service_date,
    cast(date_trunc('month', service_date) as date) as service_month,
    service_type,
    service_type = '律师志愿服务' as is_lawyer_volunteer_service,
    people_served,
    {{ event_audit_columns() }}
from {{ ref('stg_legal_services') }}
