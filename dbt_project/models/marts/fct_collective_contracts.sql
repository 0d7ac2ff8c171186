-- Collective contracts (latest accepted version of each), with their validity window,
-- the renewal links both ways (renews_contract_id as submitted; renewed_by_contract_id
-- found from the contract that names this one, same street), and their state as of
-- var('as_of_date'): valid, expiring within 30 days, expired without renewal.

with contracts as (
    select * from {{ ref('stg_collective_contracts') }}
),

renewals as (
    -- the first contract that names each contract as the one it renews
    select
        street_code,
        renews_contract_id as renewed_contract_id,
        contract_id as renewed_by_contract_id,
        signed_date as renewal_signed_date
    from contracts
    where renews_contract_id is not null
    qualify row_number() over (
        partition by street_code, renews_contract_id
        order by signed_date, contract_id
    ) = 1
),

contract_links as (
    select
        contracts.*,
        renewals.renewed_by_contract_id,
        renewals.renewal_signed_date,
        predecessors.contract_id is not null as renews_known_contract
    from contracts
    left join renewals
        on contracts.street_code = renewals.street_code
        and contracts.contract_id = renewals.renewed_contract_id
    left join contracts as predecessors
        on contracts.street_code = predecessors.street_code
        and contracts.renews_contract_id = predecessors.contract_id
)

select
    street_code || ':' || contract_id as contract_key,
    contract_id,
    street_code,
    street_code || ':' || org_id as org_key,
    org_id,
    contract_type,
    signed_date,
    start_date,
    end_date,
    {{ days_between('start_date', 'end_date') }} as validity_days,
    employees_covered,
    wage_increase_pct,
    standardized,
    renews_contract_id,
    renews_contract_id is not null and renews_known_contract as renews_known_contract,
    renewed_by_contract_id,
    renewal_signed_date,
    renewal_signed_date is not null and renewal_signed_date <= {{ as_of_date() }} as is_renewed,
    renewal_signed_date is not null and renewal_signed_date <= end_date + interval 30 day as is_renewed_within_30d,
    start_date <= {{ as_of_date() }} and end_date >= {{ as_of_date() }} as is_valid_on_as_of_date,
    end_date >= {{ as_of_date() }} and end_date <= {{ as_of_date() }} + interval 30 day as is_expiring_within_30d,
    end_date < {{ as_of_date() }}
        and not (renewal_signed_date is not null and renewal_signed_date <= {{ as_of_date() }}) as is_expired_unrenewed,
    {{ days_between(as_of_date(), 'end_date') }} as days_to_end,
    cast(date_trunc('month', signed_date) as date) as signed_month,
    cast(date_trunc('month', end_date) as date) as end_month,
    {{ event_audit_columns() }}
from contract_links
