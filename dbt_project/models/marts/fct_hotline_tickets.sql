-- Hotline tickets dispatched to the streets (latest accepted version of each), with the
-- service-level flags: responded and closed by the deadline, and still open past the
-- deadline at the end of var('as_of_date'). A ticket closed after that day counts as
-- open as of it.

with tickets as (
    select
        *,
        cast({{ as_of_date() }} + interval 1 day as timestamp) as as_of_end
    from {{ ref('stg_hotline_tickets') }}
)

select
    street_code || ':' || ticket_id as ticket_key,
    ticket_id,
    street_code,
    received_at,
    cast(received_at as date) as received_date,
    cast(date_trunc('month', received_at) as date) as received_month,
    category,
    employer_name,
    credit_code,
    deadline_at,
    cast(date_trunc('month', deadline_at) as date) as due_month,
    responded_at,
    closed_at,
    satisfied,
    closed_at is not null and closed_at < as_of_end as is_closed,
    responded_at is not null and responded_at <= deadline_at as responded_on_time,
    closed_at is not null and closed_at <= deadline_at as closed_on_time,
    deadline_at < as_of_end and not (closed_at is not null and closed_at < as_of_end) as is_overdue_open,
    {{ hours_between('received_at', 'responded_at') }} as hours_to_respond,
    {{ hours_between('received_at', 'closed_at') }} as hours_to_close,
    {{ event_audit_columns() }}
from tickets
