-- W09 调解超期: each dispute case still open on the as-of date more than `overdue_days`
-- days after it was received (劳动争议调解仲裁法 Art. 14: no agreement within 15 days
-- counts as failed mediation).

with params as (
    select
        {{ warning_as_of() }} as as_of_date,
        {{ warning_param('W09', 'overdue_days', 'integer') }} as overdue_days
),

cases as (
    select
        {{ star_shadowed('cases', ref('fct_dispute_cases'), ['open_days']) }},
        params.as_of_date,
        params.overdue_days,
        {{ days_between('cases.received_date', 'params.as_of_date') }} as open_days
    from {{ ref('fct_dispute_cases') }} as cases
    cross join params
    where cases.received_date < {{ add_days('params.as_of_date', '- params.overdue_days') }}
        and not {{ case_closed_by('params.as_of_date') }}
)

select
    'W09' as rule_code,
    street_code,
    'case:' || street_code || ':' || case_id as entity_key,
    '' as alert_window,
    {{ json_object_text([
        ('workers_involved', 'coalesce(workers_involved, 0)'),
        ('open_days', 'open_days'),
    ]) }} as metrics,
    {{ json_object_text(case_evidence_pairs('as_of_date') + [('open_days', 'open_days')]) }} as evidence,
    coalesce(employer_name, '') || '劳动争议案件' || case_id || '受理已' || open_days || '天仍未结案（'
        || {{ case_state_as_of('as_of_date') }} || '，超过' || overdue_days || '天调解期限），'
        || coalesce('涉及职工' || workers_involved || '人', '涉及职工人数未填') as message_body
from cases
