-- W04 集体合同到期未续签: contracts signed by the as-of date that end within
-- `expiring_within_days` days or have ended, with no renewal signed by the as-of date:
-- neither a contract naming them in renews_contract_id, nor a later contract of the
-- same org and type that runs past their end. Contracts of an org the registry lists as
-- gone (迁出, 注销, 合并, or dropped from its street's list) are left out.
-- Metrics: days_since_end (negative while it still runs) and employees_covered.

with params as (
    select
        {{ warning_as_of() }} as as_of_date,
        {{ add_days(warning_as_of(), warning_param('W04', 'expiring_within_days', 'integer')) }} as horizon
),

contracts as (
    select * from {{ ref('fct_collective_contracts') }}
),

candidates as (
    select contracts.*, params.as_of_date
    from contracts
    cross join params
    where contracts.signed_date <= params.as_of_date
        and contracts.end_date <= params.horizon
        and not (contracts.renewal_signed_date is not null
                 and contracts.renewal_signed_date <= params.as_of_date)
),

renewed as (
    select distinct candidates.street_code, candidates.contract_id
    from candidates
    inner join contracts as later
        on later.street_code = candidates.street_code
        and later.org_id = candidates.org_id
        and later.contract_type = candidates.contract_type
        and later.contract_id <> candidates.contract_id
        and later.signed_date <= candidates.as_of_date
        and later.start_date > candidates.start_date
        and later.end_date > candidates.end_date
),

known_orgs as (
    select distinct street_code, org_id from {{ ref('int_org_snapshots') }}
),

unrenewed as (
    select
        candidates.*,
        orgs.employer_name,
        orgs.credit_code,
        {{ days_between('candidates.end_date', 'candidates.as_of_date') }} as days_since_end
    from candidates
    left join {{ ref('dim_union_org') }} as orgs
        on orgs.street_code = candidates.street_code and orgs.org_id = candidates.org_id
    left join known_orgs
        on known_orgs.street_code = candidates.street_code and known_orgs.org_id = candidates.org_id
    left join renewed
        on renewed.street_code = candidates.street_code and renewed.contract_id = candidates.contract_id
    where renewed.contract_id is null
        and (orgs.is_active or (orgs.org_id is null and known_orgs.org_id is null))
)

select
    'W04' as rule_code,
    street_code,
    'contract:' || street_code || ':' || contract_id as entity_key,
    '' as alert_window,
    {{ json_object_text([
        ('days_since_end', 'days_since_end'),
        ('employees_covered', 'coalesce(employees_covered, 0)'),
    ]) }} as metrics,
    {{ json_object_text([
        ('contract_id', 'contract_id'),
        ('street_code', 'street_code'),
        ('org_id', 'org_id'),
        ('employer_name', 'employer_name'),
        ('credit_code', 'credit_code'),
        ('contract_type', 'contract_type'),
        ('start_date', 'start_date'),
        ('end_date', 'end_date'),
        ('days_since_end', 'days_since_end'),
        ('employees_covered', 'employees_covered'),
    ]) }} as evidence,
    coalesce(employer_name, '工会组织' || org_id) || contract_type || '集体合同' || contract_id
        || case when days_since_end > 0 then '已于' || cast(end_date as {{ text_type() }}) || '到期'
                else '将于' || cast(end_date as {{ text_type() }}) || '到期（还有' || (- days_since_end) || '天）' end
        || '，尚未续签，'
        || coalesce('覆盖职工' || employees_covered || '人', '覆盖职工人数未填') as message_body
from unrenewed
