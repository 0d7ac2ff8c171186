-- Labour-dispute mediation cases in their current state (the latest accepted version of
-- each case), as of var('as_of_date'): closed or open, how long, the outcome, whether
-- collective (collective_dispute_workers() or more workers, 劳动争议调解仲裁法 Art. 7), whether
-- mediation is overdue (still 受理/调解中 more than mediation_limit_days() after receipt, Art. 14).

with cases as (
    select * from {{ ref('stg_dispute_cases') }}
),

known_orgs as (
    select distinct street_code, org_id from {{ ref('int_org_snapshots') }}
),

case_state as (
    select
        cases.*,
        cases.status in ({{ closed_case_statuses() }})
            and cases.closed_date <= {{ as_of_date() }} as is_closed,
        known_orgs.org_id is not null as is_org_known
    from cases
    left join known_orgs
        on cases.street_code = known_orgs.street_code
        and cases.org_id = known_orgs.org_id
)

select
    street_code || ':' || case_id as case_key,
    case_id,
    street_code,
    employer_name,
    credit_code,
    org_id,
    case when org_id is not null then street_code || ':' || org_id end as org_key,
    org_id is null or is_org_known as is_org_known,
    received_date,
    cast(date_trunc('month', received_date) as date) as received_month,
    dispute_type,
    workers_involved,
    amount_claimed,
    amount_settled,
    status,
    is_closed,
    case when is_closed then closed_date end as closed_date,
    case when is_closed then cast(date_trunc('month', closed_date) as date) end as closed_month,
    case when is_closed then status end as outcome,
    is_closed and status = {{ success_case_status() }} as is_mediation_success,
    is_closed and status in ({{ decided_case_statuses() }}) as counts_for_success_rate,
    case when is_closed then {{ days_between('received_date', 'closed_date') }} end as duration_days,
    case when not is_closed then {{ days_between('received_date', as_of_date()) }} end as open_days,
    workers_involved >= {{ collective_dispute_workers() }} as is_collective,
    not is_closed and status in ({{ open_case_statuses() }})
        and {{ days_between('received_date', as_of_date()) }} > {{ mediation_limit_days() }} as is_mediation_overdue,
    {{ event_audit_columns() }}
from case_state
