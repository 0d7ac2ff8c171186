-- W05 派单超期: hotline tickets whose deadline passed by the end of the as-of day and
-- that were not closed by then. Metrics: street_overdue_tickets (how many such tickets
-- the ticket's street has at once) and hours_overdue (whole hours at the end of the day).

with params as (
    select cast({{ add_days(warning_as_of(), 1) }} as timestamp) as end_of_as_of
),

overdue as (
    select
        tickets.*,
        count(*) over (partition by tickets.street_code) as street_overdue,
        cast(floor({{ seconds_between('tickets.deadline_at', 'params.end_of_as_of') }} / 3600) as bigint)
            as hours_overdue
    from {{ ref('fct_hotline_tickets') }} as tickets
    cross join params
    where tickets.received_at < params.end_of_as_of
        and tickets.deadline_at < params.end_of_as_of
        and (tickets.closed_at is null or tickets.closed_at >= params.end_of_as_of)
)

select
    'W05' as rule_code,
    street_code,
    'ticket:' || street_code || ':' || ticket_id as entity_key,
    '' as alert_window,
    {{ json_object_text([
        ('street_overdue_tickets', 'street_overdue'),
        ('hours_overdue', 'hours_overdue'),
    ]) }} as metrics,
    {{ json_object_text([
        ('ticket_id', 'ticket_id'),
        ('street_code', 'street_code'),
        ('category', 'category'),
        ('employer_name', 'employer_name'),
        ('credit_code', 'credit_code'),
        ('received_at', 'received_at'),
        ('deadline_at', 'deadline_at'),
        ('hours_overdue_at_end_of_as_of', 'hours_overdue'),
        ('street_overdue_tickets', 'street_overdue'),
    ]) }} as evidence,
    '热线工单' || ticket_id || '（' || category || '）办理时限' || {{ format_minute('deadline_at') }}
        || '已过仍未办结；本街道超期未结工单共' || street_overdue || '件' as message_body
from overdue
