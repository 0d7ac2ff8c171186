-- Worker training and education events (latest accepted version of each record).

select
    street_code || ':' || event_id as training_event_key,
    event_id,
    street_code,
    event_type,
    event_type = '通识课程' as is_general_course,
    event_type = '职工大讲堂' as is_lecture,
    title,
    event_date,
    cast(date_trunc('month', event_date) as date) as event_month,
    venue_type,
    participants,
    {{ event_audit_columns() }}
from {{ ref('stg_training_events') }}
