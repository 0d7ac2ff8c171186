-- The work plan's indicators DC01-DC17 for every street and the whole district, for
-- every month, quarter, half and the year of the as-of date's year that has begun:
-- numerator, denominator, value, the year's target and the status against it.
--
-- Decisions (docs/indicators.md):
-- * A rate's target applies to every street and every period. A count or amount target
--   is the district's annual figure: the district row of a shorter period carries it
--   pro rata (a quarter a quarter of it); street rows carry none (status 无目标).
-- * A period not over is 进行中 when on track (a count at least the target times the
--   elapsed share of the period; a rate already at its target), else 滞后.
-- * DC13 "rising": the target is the higher of the same period a year earlier and the
--   previous period (where those had closed cases); met when not below it.
-- * A zero denominator gives no value and status 无数据.
-- The run id, time and code version are stamped when the table is published; the
-- manifest_id identifies the inputs (see the manifest CTE below).

with periods as (
    select * from {{ ref('int_indicator_periods') }}
),

district as (
    select any_value(district_code) as district_code, any_value(district_name) as district_name
    from {{ ref('streets') }}
),

street_measures as (
    select * from {{ ref('int_indicator_street_measures') }}
),

district_measures as (
    select
        indicator_code,
        district.district_code as area_code,
        period_type,
        period_start,
        {{ wide_sum('numerator', 2) }} as numerator,
        {{ wide_sum('denominator', 2) }} as denominator
    from street_measures
    cross join district
    group by all
),

area_measures as (
    select indicator_code, street_code as area_code, 'street' as area_level, period_type, period_start, numerator, denominator
    from street_measures
    union all
    select indicator_code, area_code, 'district' as area_level, period_type, period_start, numerator, denominator
    from district_measures
),

valued as (
    select
        area_measures.*,
        periods.period_year,
        periods.period_number,
        periods.period_label,
        periods.period_end,
        periods.evaluation_date,
        periods.is_complete,
        periods.elapsed_fraction,
        periods.is_reported,
        periods.as_of_date,
        case
            when area_measures.denominator is null then cast(area_measures.numerator as double)
            when area_measures.denominator = 0 then null
            else cast(area_measures.numerator as double) / cast(area_measures.denominator as double)
        end as value
    from area_measures
    inner join periods
        on area_measures.period_type = periods.period_type
        and area_measures.period_start = periods.period_start
),

-- for DC13: the same period a year earlier, and the period just before
compared as (
    select
        valued.*,
        same_period_last_year.value as value_same_period_last_year,
        previous_period.value as value_previous_period
    from valued
    left join valued as same_period_last_year
        on same_period_last_year.indicator_code = valued.indicator_code
        and same_period_last_year.area_code = valued.area_code
        and same_period_last_year.period_type = valued.period_type
        and same_period_last_year.period_start = cast(valued.period_start - interval 1 year as date)
    left join valued as previous_period
        on previous_period.indicator_code = valued.indicator_code
        and previous_period.area_code = valued.area_code
        and previous_period.period_type = valued.period_type
        and previous_period.period_end = cast(valued.period_start - interval 1 day as date)
    where valued.is_reported
),

-- what each indicator is (name, unit): a year without a plan still gets its
-- indicators, with no target
definitions as (
    select indicator_code, indicator_name, unit
    from {{ ref('int_indicator_definitions') }}
),

targeted as (
    select
        compared.*,
        definitions.indicator_name,
        definitions.unit,
        coalesce(targets.comparator, 'tracked') as target_comparator,
        case
            when targets.comparator = 'rising' then 'comparison'
            when targets.comparator not in ('>=', '=') or targets.comparator is null then 'none'
            when definitions.unit = 'ratio' then 'plan'
            when compared.area_level = 'street' then 'none'
            when compared.period_type = 'year' then 'plan'
            else 'pro_rata'
        end as target_basis,
        case compared.period_type when 'month' then 1 when 'quarter' then 3 when 'half' then 6 else 12 end / {{ float_literal('12.0') }}
            as year_share,
        targets.target_value,
        targets.met_threshold
    from compared
    inner join definitions
        on compared.indicator_code = definitions.indicator_code
    left join {{ ref('indicator_targets') }} as targets
        on targets.year = compared.period_year
        and targets.indicator_code = compared.indicator_code
),

with_targets as (
    select
        *,
        case target_basis
            when 'plan' then target_value
            when 'pro_rata' then target_value * year_share
            when 'comparison' then greatest(value_same_period_last_year, value_previous_period)
        end as target,
        case target_basis
            when 'plan' then met_threshold
            when 'pro_rata' then met_threshold * year_share
            when 'comparison' then greatest(value_same_period_last_year, value_previous_period)
        end as met_threshold_in_period
    from targeted
),

judged as (
    select
        *,
        case
            when value is null then '无数据'
            when target is null then '无目标'
            when is_complete then case when meets_threshold then '达标' else '未达标' end
            when unit = 'ratio' or target_comparator = 'rising' then
                case when meets_threshold then '进行中' else '滞后' end
            when {{ at_least('value', 'met_threshold_in_period * elapsed_fraction') }} then '进行中'
            else '滞后'
        end as status
    from (
        select
            *,
            case
                when target_comparator = '=' then {{ about_equal('value', 'met_threshold_in_period') }}
                else {{ at_least('value', 'met_threshold_in_period') }}
            end as meets_threshold
        from with_targets
    ) as compared
),

-- manifest_id: the identity of everything these values were computed from. Not only the
-- included submissions: input_submissions_left_out, input_submissions_with_warnings and
-- input_quality depend on the held-back ones and on every verdict, so the id covers
-- every loaded submission with what the build did with it (passed, passed with
-- warnings, held back, not checked). Equal ids, code version and as-of date promise
-- equal values: that is what the `deterministic` gate holds publishes to.
manifest as (
    -- computed once, in indicator_manifest; an empty manifest hashes the empty list
    select coalesce(max(manifest_id), {{ sha256_hex("''") }}) as manifest_id
    from {{ ref('indicator_manifest') }}
),

input_submissions as (
    select
        inputs.indicator_code,
        manifest.street_code,
        count(*) filter (where manifest.is_included) as included,
        count(*) filter (where manifest.quality_verdict = 'passed_with_warnings') as with_warnings,
        count(*) filter (where not manifest.is_included) as left_out
    from {{ ref('indicator_inputs') }} as inputs
    inner join {{ ref('indicator_manifest') }} as manifest
        on inputs.dataset = manifest.dataset
    group by all
),

input_quality as (
    select indicator_code, street_code as area_code, included, with_warnings, left_out
    from input_submissions
    union all
    select indicator_code, any_value(district.district_code), {{ wide_sum('included') }},
        {{ wide_sum('with_warnings') }}, {{ wide_sum('left_out') }}
    from input_submissions
    cross join district
    group by indicator_code
)

select
    judged.indicator_code,
    judged.indicator_name,
    judged.area_code,
    judged.area_level,
    coalesce(streets.name, district.district_name) as area_name,
    judged.period_type,
    judged.period_label,
    judged.period_start,
    judged.period_end,
    judged.as_of_date,
    judged.evaluation_date,
    judged.is_complete,
    judged.numerator,
    judged.denominator,
    judged.value,
    judged.unit,
    judged.target,
    judged.target_comparator,
    judged.target_basis,
    judged.met_threshold_in_period as met_threshold,
    case when judged.target is not null and judged.target <> 0 and judged.value is not null
        then judged.value / judged.target end as attainment,
    judged.value_same_period_last_year,
    judged.value_previous_period,
    judged.status,
    coalesce(input_quality.included, 0) as input_submissions,
    coalesce(input_quality.with_warnings, 0) as input_submissions_with_warnings,
    coalesce(input_quality.left_out, 0) as input_submissions_left_out,
    case
        when coalesce(input_quality.left_out, 0) > 0 then 'inputs_left_out'
        when coalesce(input_quality.with_warnings, 0) > 0 then 'passed_with_warnings'
        else 'passed'
    end as input_quality,
    manifest.manifest_id
from judged
cross join manifest
cross join district
left join {{ ref('streets') }} as streets
    on judged.area_code = streets.code
left join input_quality
    on judged.indicator_code = input_quality.indicator_code
    and judged.area_code = input_quality.area_code
