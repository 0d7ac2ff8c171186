-- The work plan's indicators DC01-DC17 per street and period, before any target:
-- the numerator and, for rates, the denominator. Every street, period and indicator
-- has a row (zero when nothing happened; a rate's zero denominator stays zero here and
-- becomes "no data" in indicator_values).
--
-- Flows ("in period") count records dated from the period start to its evaluation date
-- (the period end, or the as-of date while the period is not over). States ("active
-- org", "active member", "an instructor in post") are read from the street's latest
-- accepted snapshot on or before the evaluation date.

with periods as (
    select period_type, period_start, period_end, evaluation_date
    from {{ ref('int_indicator_periods') }}
),

streets as (
    select code as street_code from {{ ref('streets') }}
),

indicators as (
    select distinct indicator_code from {{ ref('indicator_inputs') }}
),

-- the snapshot each registry shows on each period's evaluation date, per street
registry_snapshot_on_date as (
    select
        calendar.dataset,
        calendar.street_code,
        periods.period_type,
        periods.period_start,
        periods.evaluation_date,
        max(calendar.as_of_date) as snapshot_date
    from {{ ref('int_registry_snapshot_calendar') }} as calendar
    inner join periods
        on calendar.as_of_date <= periods.evaluation_date
    group by all
),

active_orgs_on_date as (
    select
        snapshots.street_code,
        snapshots.period_type,
        snapshots.period_start,
        snapshots.evaluation_date,
        orgs.org_id,
        orgs.employees,
        orgs.is_model_enterprise,
        orgs.has_mediation_committee,
        orgs.legal_person_registered
    from registry_snapshot_on_date as snapshots
    inner join {{ ref('int_org_snapshots') }} as orgs
        on snapshots.street_code = orgs.street_code
        and snapshots.snapshot_date = orgs.as_of_date
    where snapshots.dataset = 'union_orgs'
        and orgs.status = {{ active_org_status() }}
),

training as (
    select
        periods.period_type,
        periods.period_start,
        events.street_code,
        coalesce(sum(events.participants) filter (where events.is_general_course), 0) as general_course_participants,
        count(*) filter (where events.is_lecture) as lectures
    from {{ ref('fct_training_events') }} as events
    inner join periods
        on events.event_date between periods.period_start and periods.evaluation_date
    group by all
),

dc01 as (
    select 'DC01' as indicator_code, street_code, period_type, period_start,
        general_course_participants as numerator, null as denominator
    from training
),

dc02 as (
    select 'DC02' as indicator_code, street_code, period_type, period_start,
        lectures as numerator, null as denominator
    from training
),

dc03 as (
    select 'DC03' as indicator_code, grants.street_code, periods.period_type, periods.period_start,
        count(distinct grants.member_id) as numerator, null as denominator
    from {{ ref('fct_education_grants') }} as grants
    inner join periods
        on grants.approved_date between periods.period_start and periods.evaluation_date
    where grants.full_funding
    group by all
),

large_model_orgs as (
    select *
    from active_orgs_on_date
    where {{ is_large_model_enterprise() }}
),

dc04 as (
    select 'DC04' as indicator_code, orgs.street_code, orgs.period_type, orgs.period_start,
        count(*) filter (where exists (
            select 1
            from {{ ref('fct_collective_contracts') }} as contracts
            where contracts.street_code = orgs.street_code
                and contracts.org_id = orgs.org_id
                and contracts.standardized
                and contracts.signed_date <= orgs.evaluation_date
                and orgs.evaluation_date between contracts.start_date and contracts.end_date
        )) as numerator,
        count(*) as denominator
    from large_model_orgs as orgs
    group by all
),

dc05 as (
    select 'DC05' as indicator_code, street_code, period_type, period_start,
        count(*) filter (where has_mediation_committee) as numerator, count(*) as denominator
    from active_orgs_on_date
    group by all
),

dc06 as (
    select 'DC06' as indicator_code, street_code, period_type, period_start,
        count(*) filter (where legal_person_registered) as numerator, count(*) as denominator
    from active_orgs_on_date
    group by all
),

accepted_facilities as (
    select periods.period_type, periods.period_start, facilities.*
    from {{ ref('fct_facilities') }} as facilities
    inner join periods
        on facilities.accepted_date between periods.period_start and periods.evaluation_date
),

dc07 as (
    select 'DC07' as indicator_code, street_code, period_type, period_start,
        count(distinct facility_id) as numerator, null as denominator
    from accepted_facilities
    where facility_type = '职工之家'
    group by all
),

dc08 as (
    select 'DC08' as indicator_code, street_code, period_type, period_start,
        count(distinct facility_id) filter (where subsidy_amount = {{ library_subsidy_yuan() }}) as numerator,
        count(distinct facility_id) as denominator
    from accepted_facilities
    where facility_type = '职工书屋'
    group by all
),

dc09 as (
    select 'DC09' as indicator_code, facilities.street_code, periods.period_type, periods.period_start,
        coalesce(sum(facilities.funding_amount), 0) as numerator, null as denominator
    from {{ ref('fct_facilities') }} as facilities
    inner join periods
        on facilities.stage_date between periods.period_start and periods.evaluation_date
    where facilities.facility_type = '职工之家'
    group by all
),

dc10 as (
    select 'DC10' as indicator_code, street_code, period_type, period_start,
        count(distinct facility_id) as numerator, null as denominator
    from accepted_facilities
    where facility_type = '职工创新工作室' and level = '区级'
    group by all
),

instructors_on_date as (
    select snapshots.street_code, snapshots.period_type, snapshots.period_start
    from registry_snapshot_on_date as snapshots
    inner join {{ ref('int_staff_snapshots') }} as staff
        on snapshots.street_code = staff.street_code
        and snapshots.snapshot_date = staff.as_of_date
    where snapshots.dataset = 'street_staff'
        and staff.active
        and staff.role = '集体协商专职指导员'
    group by all
),

-- the periods by whose evaluation date at least one street had sent a staff list
staff_lists_on_date as (
    select distinct period_type, period_start
    from registry_snapshot_on_date
    where dataset = 'street_staff'
),

dc11 as (
    -- every street is in the denominator, whether or not it sent a staff list; but before
    -- any street has sent one there is nothing to judge: denominator 0, value null, 无数据
    select 'DC11' as indicator_code, streets.street_code, periods.period_type, periods.period_start,
        count(instructors_on_date.street_code) as numerator,
        case when staff_lists_on_date.period_start is null then 0 else 1 end as denominator
    from streets
    cross join periods
    left join staff_lists_on_date
        on periods.period_type = staff_lists_on_date.period_type
        and periods.period_start = staff_lists_on_date.period_start
    left join instructors_on_date
        on streets.street_code = instructors_on_date.street_code
        and periods.period_type = instructors_on_date.period_type
        and periods.period_start = instructors_on_date.period_start
    group by all
),

months_in_periods as (
    -- the months of each period that have begun by its evaluation date
    select periods.period_type, periods.period_start, months.period_start as month_start, months.evaluation_date as month_evaluation_date
    from periods
    inner join periods as months
        on months.period_type = 'month'
        and months.period_start between periods.period_start and periods.evaluation_date
),

lawyer_services_by_month as (
    select street_code, cast(date_trunc('month', service_date) as date) as month_start, service_date
    from {{ ref('fct_legal_services') }}
    where is_lawyer_volunteer_service
),

street_months as (
    select
        streets.street_code,
        months_in_periods.period_type,
        months_in_periods.period_start,
        months_in_periods.month_start,
        count(lawyer_services_by_month.service_date) as lawyer_services
    from streets
    cross join months_in_periods
    left join lawyer_services_by_month
        on streets.street_code = lawyer_services_by_month.street_code
        and months_in_periods.month_start = lawyer_services_by_month.month_start
        and lawyer_services_by_month.service_date <= months_in_periods.month_evaluation_date
    group by all
),

dc12 as (
    select 'DC12' as indicator_code, street_code, period_type, period_start,
        count(*) filter (where lawyer_services >= 2) as numerator, count(*) as denominator
    from street_months
    group by all
),

dc13 as (
    select 'DC13' as indicator_code, cases.street_code, periods.period_type, periods.period_start,
        count(*) filter (where cases.is_mediation_success) as numerator,
        count(*) as denominator
    from {{ ref('fct_dispute_cases') }} as cases
    inner join periods
        on cases.closed_date between periods.period_start and periods.evaluation_date
    where cases.counts_for_success_rate
    group by all
),

dc14 as (
    select 'DC14' as indicator_code, tickets.street_code, periods.period_type, periods.period_start,
        count(*) filter (where tickets.closed_at is not null and tickets.closed_at <= tickets.deadline_at) as numerator,
        count(*) as denominator
    from {{ ref('fct_hotline_tickets') }} as tickets
    inner join periods
        on cast(tickets.deadline_at as date) between periods.period_start and periods.evaluation_date
    group by all
),

members_on_date as (
    select
        snapshots.street_code,
        snapshots.period_type,
        snapshots.period_start,
        sum(counts.jingka_holders) as jingka_holders,
        sum(counts.active_members) as active_members
    from registry_snapshot_on_date as snapshots
    inner join {{ ref('fct_membership_counts') }} as counts
        on snapshots.street_code = counts.street_code
        and snapshots.snapshot_date = counts.as_of_date
    where snapshots.dataset = 'members'
    group by all
),

dc15 as (
    select 'DC15' as indicator_code, street_code, period_type, period_start,
        jingka_holders as numerator, active_members as denominator
    from members_on_date
),

dc16 as (
    select 'DC16' as indicator_code, contracts.street_code, periods.period_type, periods.period_start,
        count(*) filter (where contracts.is_renewed_within_30d and contracts.renewal_signed_date <= {{ as_of_date() }}) as numerator,
        count(*) as denominator
    from {{ ref('fct_collective_contracts') }} as contracts
    inner join periods
        on contracts.end_date between periods.period_start and periods.evaluation_date
    group by all
),

hardship_registered as (
    select periods.period_type, periods.period_start, periods.evaluation_date, aid.street_code, aid.member_id
    from {{ ref('fct_hardship_aid') }} as aid
    inner join periods
        on aid.aid_date <= periods.evaluation_date
    where aid.is_registration
    group by all
),

hardship_aided as (
    select periods.period_type, periods.period_start, aid.street_code, aid.member_id
    from {{ ref('fct_hardship_aid') }} as aid
    inner join periods
        on aid.aid_date between periods.period_start and periods.evaluation_date
    where not aid.is_registration
    group by all
),

dc17 as (
    select 'DC17' as indicator_code, registered.street_code, registered.period_type, registered.period_start,
        count(aided.member_id) as numerator,
        count(*) as denominator
    from hardship_registered as registered
    left join hardship_aided as aided
        on registered.street_code = aided.street_code
        and registered.member_id = aided.member_id
        and registered.period_type = aided.period_type
        and registered.period_start = aided.period_start
    group by all
),

measures as (
    select * from dc01 union all
    select * from dc02 union all
    select * from dc03 union all
    select * from dc04 union all
    select * from dc05 union all
    select * from dc06 union all
    select * from dc07 union all
    select * from dc08 union all
    select * from dc09 union all
    select * from dc10 union all
    select * from dc11 union all
    select * from dc12 union all
    select * from dc13 union all
    select * from dc14 union all
    select * from dc15 union all
    select * from dc16 union all
    select * from dc17
)

select
    indicators.indicator_code,
    streets.street_code,
    periods.period_type,
    periods.period_start,
    cast(coalesce(measures.numerator, 0) as decimal(20, 2)) as numerator,
    cast(
        case when definitions.is_rate then coalesce(measures.denominator, 0) end as decimal(20, 2)
    ) as denominator
from indicators
cross join streets
cross join periods
inner join {{ ref('int_indicator_definitions') }} as definitions
    on indicators.indicator_code = definitions.indicator_code
left join measures
    on indicators.indicator_code = measures.indicator_code
    and streets.street_code = measures.street_code
    and periods.period_type = measures.period_type
    and periods.period_start = measures.period_start
