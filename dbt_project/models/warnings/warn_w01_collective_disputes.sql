-- W01 集体劳动争议: each dispute case open on the as-of date, or received in the last
-- `recent_days` days, with its number of workers (劳动争议调解仲裁法 Art. 7: ten or more
-- with a common claim is collective; the levels are in the rule file).

with params as (
    select
        {{ warning_as_of() }} as as_of_date,
        {{ warning_param('W01', 'recent_days', 'integer') }} as recent_days
),

cases as (
    select cases.*, params.as_of_date
    from {{ ref('fct_dispute_cases') }} as cases
    cross join params
    where cases.received_date <= params.as_of_date
        and cases.workers_involved is not null
        and (
            not {{ case_closed_by('params.as_of_date') }}
            or cases.received_date >= {{ add_days('params.as_of_date', '1 - params.recent_days') }}
        )
)

select
    'W01' as rule_code,
    street_code,
    'case:' || street_code || ':' || case_id as entity_key,
    '' as alert_window,
    {{ json_object_text([('workers_involved', 'workers_involved')]) }} as metrics,
    {{ json_object_text(case_evidence_pairs('as_of_date')) }} as evidence,
    coalesce(employer_name, '') || '劳动争议案件' || case_id || '涉及职工' || workers_involved || '人（'
        || dispute_type || '，' || {{ case_state_as_of('as_of_date') }} || '）' as message_body
from cases
