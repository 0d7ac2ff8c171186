-- How far the data the warning rules read reaches: the latest of their dates on or
-- before the as-of date (a case received or closed, a ticket received, a contract
-- signed, a registry or member snapshot). One row; null when there is none. An
-- evaluation more than a grace period beyond it is a what-if (pipelines/alerts/modes.py).

with params as (
    select {{ warning_as_of() }} as as_of_date
),

dates as (
    select received_date as data_date from {{ ref('fct_dispute_cases') }}
    union all
    select closed_date from {{ ref('fct_dispute_cases') }}
    union all
    select cast(received_at as date) from {{ ref('fct_hotline_tickets') }}
    union all
    select signed_date from {{ ref('fct_collective_contracts') }}
    union all
    select as_of_date from {{ ref('int_org_snapshots') }}
    union all
    select as_of_date from {{ ref('fct_membership_counts') }}
)

select max(dates.data_date) as data_through
from dates
cross join params
where dates.data_date <= params.as_of_date
