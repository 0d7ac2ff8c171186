-- The reporting periods of the as-of date's year that have begun by the as-of date
-- (every month, quarter, half and the year itself), plus every period of the year
-- before (indicators compare with the same period a year earlier). A period not over
-- on the as-of date is evaluated up to the as-of date: `evaluation_date` is the last
-- day whose data counts, `elapsed_fraction` how much of the period has passed.

with as_of as (
    select {{ as_of_date() }} as as_of_date
),

period_kinds as (
    select * from (values
        ('month', 1),
        ('quarter', 3),
        ('half', 6),
        ('year', 12)
    ) as kinds (period_type, months)
),

years as (
    select year(as_of_date) as period_year, true as is_reported from as_of
    union all
    select year(as_of_date) - 1 as period_year, false as is_reported from as_of
),

period_starts as (
    select
        years.period_year,
        years.is_reported,
        period_kinds.period_type,
        period_kinds.months,
        period_number,
        cast({{ months_after('make_date(years.period_year, 1, 1)', '(period_number - 1) * period_kinds.months') }} as date) as period_start
    from years
    cross join period_kinds
    cross join range(1, 13) as numbers (period_number)
    where period_number <= {{ int_div('12', 'period_kinds.months') }}
),

periods as (
    select
        period_type,
        period_year,
        period_number,
        period_start,
        cast({{ months_after('period_start', 'months') }} - interval 1 day as date) as period_end,
        is_reported
    from period_starts
)

select
    periods.period_type,
    periods.period_year,
    periods.period_number,
    case periods.period_type
        when 'month' then {{ format_month('periods.period_start') }}
        when 'quarter' then periods.period_year || 'Q' || periods.period_number
        when 'half' then periods.period_year || 'H' || periods.period_number
        else cast(periods.period_year as {{ text_type() }})
    end as period_label,
    periods.period_start,
    periods.period_end,
    least(periods.period_end, as_of.as_of_date) as evaluation_date,
    periods.period_end <= as_of.as_of_date as is_complete,
    ({{ date_difference('least(periods.period_end, as_of.as_of_date)', 'periods.period_start') }} + 1)
        / ({{ date_difference('periods.period_end', 'periods.period_start') }} + 1) as elapsed_fraction,
    periods.is_reported,
    as_of.as_of_date
from periods
cross join as_of
where periods.period_start <= as_of.as_of_date
