-- W08 调解成功率下滑: per street, the mediation success rate (indicator DC13, read from
-- int_indicator_street_measures, never recomputed) in the last complete quarter before
-- the as-of date against the quarter before, for streets with at least
-- `min_closed_cases` decided cases in each. Metric: drop_points (percentage points,
-- positive when the rate fell).

with params as (
    select
        {{ warning_as_of() }} as as_of_date,
        {{ warning_param('W08', 'min_closed_cases', 'integer') }} as min_closed_cases
),

last_quarter as (
    -- the latest quarter ended by the end of the as-of day (its own, on its last day)
    select
        *,
        {{ quarter_start(add_days(quarter_start(add_days('as_of_date', 1)), -1)) }} as last_start
    from params
),

quarters as (
    select
        *,
        {{ quarter_start(add_days('last_start', -1)) }} as previous_start
    from last_quarter
),

dc13 as (
    select * from {{ ref('int_indicator_street_measures') }}
    where indicator_code = 'DC13' and period_type = 'quarter'
),

compared as (
    select
        dc13.street_code,
        quarters.last_start,
        quarters.previous_start,
        quarters.min_closed_cases,
        cast(sum(case when dc13.period_start = quarters.last_start then dc13.denominator end) as bigint) as last_closed,
        cast(sum(case when dc13.period_start = quarters.last_start then dc13.numerator end) as bigint) as last_success,
        cast(sum(case when dc13.period_start = quarters.previous_start then dc13.denominator end) as bigint) as previous_closed,
        cast(sum(case when dc13.period_start = quarters.previous_start then dc13.numerator end) as bigint) as previous_success
    from dc13
    cross join quarters
    where dc13.period_start in (quarters.last_start, quarters.previous_start)
    group by 1, 2, 3, 4
),

rates as (
    select
        *,
        last_success / last_closed as last_rate,
        previous_success / previous_closed as previous_rate,
        -- (previous rate - last rate) in points, as one division of whole numbers (exact at 15.0)
        (previous_success * last_closed - last_success * previous_closed) * 100
            / (previous_closed * last_closed) as drop_points,
        year(last_start) || '-Q' || quarter(last_start) as quarter_label,
        year(previous_start) || '-Q' || quarter(previous_start) as previous_label
    from compared
    where last_closed >= greatest(min_closed_cases, 1)
        and previous_closed >= greatest(min_closed_cases, 1)
)

select
    'W08' as rule_code,
    street_code,
    'street:' || street_code as entity_key,
    quarter_label as alert_window,
    {{ json_object_text([('drop_points', 'drop_points')]) }} as metrics,
    {{ json_object_text([
        ('street_code', 'street_code'),
        ('quarter', 'quarter_label'),
        ('previous_quarter', 'previous_label'),
        ('closed_cases', 'last_closed'),
        ('successful_cases', 'last_success'),
        ('success_rate', round_half_even('last_rate', 4)),
        ('previous_closed_cases', 'previous_closed'),
        ('previous_successful_cases', 'previous_success'),
        ('previous_success_rate', round_half_even('previous_rate', 4)),
        ('drop_points', round_half_even('drop_points', 1)),
    ]) }} as evidence,
    quarter_label || '调解成功率' || {{ format_fixed('last_rate * 100', 1) }} || '%（结案' || last_closed
        || '件），比' || previous_label || '的' || {{ format_fixed('previous_rate * 100', 1) }}
        || '%下降' || {{ format_fixed('drop_points', 1) }} || '个百分点' as message_body
from rates
