-- W03 争议激增: per street, the dispute cases received in the last `window_days` days
-- against the average per `window_days` over the `baseline_days` before. Metrics:
-- recent_cases and ratio (infinite when the baseline is empty and cases came in).

with params as (
    select
        {{ warning_as_of() }} as as_of_date,
        {{ warning_param('W03', 'window_days', 'integer') }} as window_days,
        {{ warning_param('W03', 'baseline_days', 'integer') }} as baseline_days
),

windows as (
    select
        as_of_date, window_days, baseline_days,
        {{ add_days('as_of_date', '1 - window_days') }} as recent_from
    from params
),

bounds as (
    select *, {{ add_days('recent_from', '- baseline_days') }} as baseline_from
    from windows
),

streets as (
    select
        cases.street_code,
        count(*) filter (where cases.received_date >= bounds.recent_from) as recent,
        count(*) filter (where cases.received_date < bounds.recent_from) as baseline,
        {{ sorted_list_agg('cases.case_id', 'cases.received_date >= bounds.recent_from') }} as recent_ids
    from {{ ref('fct_dispute_cases') }} as cases
    cross join bounds
    where cases.received_date between bounds.baseline_from and bounds.as_of_date
    group by cases.street_code
),

measured as (
    select
        streets.*,
        bounds.*,
        streets.baseline * bounds.window_days / bounds.baseline_days as baseline_avg,
        -- recent / average, as one division of whole numbers (exact at a threshold such as 3.0)
        case
            when streets.baseline > 0
                then streets.recent * bounds.baseline_days / (streets.baseline * bounds.window_days)
            when streets.recent > 0 then cast('infinity' as double)
            else 0.0
        end as ratio
    from streets
    cross join bounds
)

select
    'W03' as rule_code,
    street_code,
    'street:' || street_code as entity_key,
    '' as alert_window,
    {{ json_object_text([('recent_cases', 'recent'), ('ratio', 'ratio')]) }} as metrics,
    {{ json_object_text([
        ('street_code', 'street_code'),
        ('recent_cases', 'recent'),
        ('baseline_cases', 'baseline'),
        ('baseline_avg_per_window', round_half_even('baseline_avg', 2)),
        ('ratio', 'case when baseline_avg > 0 then ' ~ round_half_even('ratio', 2) ~ ' end'),
        ('window_start', 'recent_from'),
        ('window_end', 'as_of_date'),
        ('baseline_start', 'baseline_from'),
        ('baseline_end', add_days('recent_from', -1)),
        ('case_ids', 'recent_ids'),
    ]) }} as evidence,
    '近' || window_days || '天受理劳动争议' || recent || '件，'
        || case when baseline_avg > 0
                then '为前' || baseline_days || '天平均每' || window_days || '天'
                    || {{ format_fixed('baseline_avg', 1) }} || '件的' || {{ format_fixed('ratio', 1) }} || '倍'
                else '前' || baseline_days || '天无案件' end as message_body
from measured
