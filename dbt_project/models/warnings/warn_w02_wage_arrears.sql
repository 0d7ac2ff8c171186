-- W02 欠薪集中: per employer, the `dispute_type` dispute cases and the `ticket_category`
-- hotline tickets received in the last `window_days` days (the as-of day included).
-- An employer is its credit code; a record without one takes the code its name has in
-- the union registry or in the records (a name seen with two codes takes neither), else
-- it is grouped by its name as a clerk means it (macro normalise_employer).
-- Metrics: complaints (the larger of the two counts) and amount_claimed_yuan.

with params as (
    select
        {{ warning_as_of() }} as as_of_date,
        {{ add_days(warning_as_of(), '1 - ' ~ warning_param('W02', 'window_days', 'integer')) }} as window_start,
        {{ warning_param('W02', 'window_days', 'integer') }} as window_days,
        {{ warning_param('W02', 'dispute_type', text_type()) }} as dispute_type,
        {{ warning_param('W02', 'ticket_category', text_type()) }} as ticket_category
),

cases as (
    select
        'case' as record_kind, cases.street_code, cases.case_id as record_id,
        nullif(cases.employer_name, '') as employer_name, nullif(cases.credit_code, '') as credit_code,
        {{ round_half_even('cases.amount_claimed', 2) }} as amount_claimed
    from {{ ref('fct_dispute_cases') }} as cases
    cross join params
    where cases.dispute_type = params.dispute_type
        and cases.received_date between params.window_start and params.as_of_date
),

tickets as (
    select
        'ticket' as record_kind, tickets.street_code, tickets.ticket_id as record_id,
        nullif(tickets.employer_name, '') as employer_name, nullif(tickets.credit_code, '') as credit_code,
        cast(null as double) as amount_claimed
    from {{ ref('fct_hotline_tickets') }} as tickets
    cross join params
    where tickets.category = params.ticket_category
        and cast(tickets.received_at as date) between params.window_start and params.as_of_date
),

records as (
    select *, {{ normalise_employer('employer_name') }} as name_key
    from (select * from cases union all select * from tickets) as both_kinds
    where employer_name is not null or credit_code is not null
),

named_codes as (
    select {{ normalise_employer('employer_name') }} as name_key, credit_code
    from {{ ref('dim_union_org') }}
    where employer_name is not null and credit_code is not null
    union all
    select name_key, credit_code from records
    where employer_name is not null and credit_code is not null
),

code_of_name as (
    select name_key, min(credit_code) as credit_code
    from named_codes
    group by name_key
    having count(distinct credit_code) = 1
),

keyed as (
    select
        records.*,
        coalesce(records.credit_code, code_of_name.credit_code) as employer_code
    from records
    left join code_of_name on records.name_key = code_of_name.name_key
),

employers as (
    select
        case when employer_code is not null then 'employer:' || employer_code
             else 'employer:name:' || coalesce(name_key, '') end as entity_key,
        max(employer_code) as employer_code,
        min(employer_name) as employer_name,
        count(*) filter (where record_kind = 'case') as cases,
        count(*) filter (where record_kind = 'ticket') as tickets,
        coalesce(sum(amount_claimed), 0) as amount_claimed,
        count(distinct street_code) as streets,
        min(street_code) as first_street,
        {{ sorted_distinct_agg('street_code') }} as street_codes,
        {{ sorted_list_agg('record_id', "record_kind = 'case'") }} as case_ids,
        {{ sorted_list_agg('record_id', "record_kind = 'ticket'") }} as ticket_ids
    from keyed
    group by 1
)

select
    'W02' as rule_code,
    case when employers.streets = 1 then employers.first_street end as street_code,
    employers.entity_key,
    '' as alert_window,
    {{ json_object_text([
        ('complaints', 'greatest(employers.cases, employers.tickets)'),
        ('amount_claimed_yuan', 'employers.amount_claimed'),
    ]) }} as metrics,
    {{ json_object_text([
        ('employer_name', 'coalesce(employers.employer_name, employers.employer_code)'),
        ('credit_code', 'employers.employer_code'),
        ('window_start', 'params.window_start'),
        ('window_end', 'params.as_of_date'),
        ('street_codes', 'employers.street_codes'),
        ('cases', 'employers.cases'),
        ('tickets', 'employers.tickets'),
        ('amount_claimed_yuan', round_half_even('employers.amount_claimed', 2)),
        ('case_ids', 'employers.case_ids'),
        ('ticket_ids', 'employers.ticket_ids'),
    ]) }} as evidence,
    coalesce(employers.employer_name, employers.employer_code, '') || '近' || params.window_days || '天'
        || concat_ws('、',
            case when employers.cases > 0 then params.dispute_type || '争议' || employers.cases || '件' end,
            case when employers.tickets > 0 then params.ticket_category || '工单' || employers.tickets || '件' end)
        || case when employers.amount_claimed <> 0
                then '，申请金额' || {{ format_money('employers.amount_claimed') }} || '元' else '' end
        as message_body
from employers
cross join params
