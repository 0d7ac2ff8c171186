-- Monthly activity of every street, from the first month any record falls in to the
-- month of var('as_of_date'): one row per street and month, zero when nothing happened
-- (a month with no 律师志愿服务 is a 0, not a missing row). The indicators (DC01, DC02,
-- DC07, DC12-DC14 ...) and the warnings (W03, W08) aggregate these rows.

with cases as (select * from {{ ref('fct_dispute_cases') }}),
tickets as (select * from {{ ref('fct_hotline_tickets') }}),
legal_services as (select * from {{ ref('fct_legal_services') }}),
trainings as (select * from {{ ref('fct_training_events') }}),
grants as (select * from {{ ref('fct_education_grants') }}),
facilities as (select * from {{ ref('fct_facilities') }}),
aid as (select * from {{ ref('fct_hardship_aid') }}),
contracts as (select * from {{ ref('fct_collective_contracts') }}),

first_months as (
    select min(month_start) as first_month
    from (
        select min(received_month) as month_start from cases
        union all select min(received_month) from tickets
        union all select min(service_month) from legal_services
        union all select min(event_month) from trainings
        union all select min(approved_month) from grants
        union all select min(accepted_month) from facilities
        union all select min(aid_month) from aid
        union all select min(signed_month) from contracts
    ) as firsts
),

months as (
    select {{ month_starts(
        "least(coalesce(first_month, date_trunc('month', " ~ as_of_date() ~ ")), date_trunc('month', " ~ as_of_date() ~ "))",
        "date_trunc('month', " ~ as_of_date() ~ ")",
        'month_start') }}
    from first_months
),

street_months as (
    select streets.street_code, months.month_start
    from {{ ref('dim_street') }} as streets
    cross join months
),

cases_received as (
    select street_code, received_month as month_start,
        count(*) as cases_received,
        count(*) filter (where is_collective) as collective_cases_received,
        sum(workers_involved) as workers_involved_received
    from cases group by all
),

cases_closed as (
    select street_code, closed_month as month_start,
        count(*) as cases_closed,
        count(*) filter (where is_mediation_success) as cases_mediated_successfully,
        count(*) filter (where counts_for_success_rate) as cases_closed_decided,
        sum(amount_settled) as amount_settled
    from cases where is_closed group by all
),

tickets_received as (
    select street_code, received_month as month_start, count(*) as tickets_received
    from tickets group by all
),

tickets_due as (
    select street_code, due_month as month_start,
        count(*) as tickets_due,
        count(*) filter (where closed_on_time) as tickets_due_closed_on_time,
        count(*) filter (where responded_on_time) as tickets_due_responded_on_time
    from tickets group by all
),

legal as (
    select street_code, service_month as month_start,
        count(*) as legal_services,
        count(*) filter (where is_lawyer_volunteer_service) as lawyer_volunteer_services,
        sum(people_served) as legal_people_served
    from legal_services group by all
),

training as (
    select street_code, event_month as month_start,
        count(*) as training_events,
        sum(participants) as training_participants,
        coalesce(sum(participants) filter (where is_general_course), 0) as general_course_participants,
        count(*) filter (where is_lecture) as lectures
    from trainings group by all
),

grant_months as (
    select street_code, approved_month as month_start,
        count(*) as education_grants,
        count(*) filter (where full_funding) as full_funding_grants,
        sum(amount) as education_grant_amount
    from grants group by all
),

facility_months as (
    select street_code, accepted_month as month_start,
        count(*) as facilities_accepted,
        count(*) filter (where facility_type = '职工之家') as workers_homes_accepted
    from facilities where is_accepted group by all
),

aid_months as (
    select street_code, aid_month as month_start,
        count(*) as hardship_aid_records,
        count(*) filter (where is_registration) as hardship_registrations,
        sum(aid_amount) as hardship_aid_amount
    from aid group by all
),

contract_signed as (
    select street_code, signed_month as month_start, count(*) as contracts_signed
    from contracts group by all
),

contract_ending as (
    select street_code, end_month as month_start,
        count(*) as contracts_ending,
        count(*) filter (where is_renewed_within_30d) as contracts_ending_renewed_within_30d
    from contracts group by all
)

select
    street_months.street_code,
    street_months.month_start,
    cast(street_months.month_start + interval 1 month - interval 1 day as date) as month_end,
    coalesce(cases_received.cases_received, 0) as cases_received,
    coalesce(cases_received.collective_cases_received, 0) as collective_cases_received,
    coalesce(cases_received.workers_involved_received, 0) as workers_involved_received,
    coalesce(cases_closed.cases_closed, 0) as cases_closed,
    coalesce(cases_closed.cases_mediated_successfully, 0) as cases_mediated_successfully,
    coalesce(cases_closed.cases_closed_decided, 0) as cases_closed_decided,
    coalesce(cases_closed.amount_settled, 0) as amount_settled,
    coalesce(tickets_received.tickets_received, 0) as tickets_received,
    coalesce(tickets_due.tickets_due, 0) as tickets_due,
    coalesce(tickets_due.tickets_due_closed_on_time, 0) as tickets_due_closed_on_time,
    coalesce(tickets_due.tickets_due_responded_on_time, 0) as tickets_due_responded_on_time,
    coalesce(legal.legal_services, 0) as legal_services,
    coalesce(legal.lawyer_volunteer_services, 0) as lawyer_volunteer_services,
    coalesce(legal.legal_people_served, 0) as legal_people_served,
    coalesce(training.training_events, 0) as training_events,
    coalesce(training.training_participants, 0) as training_participants,
    coalesce(training.general_course_participants, 0) as general_course_participants,
    coalesce(training.lectures, 0) as lectures,
    coalesce(grant_months.education_grants, 0) as education_grants,
    coalesce(grant_months.full_funding_grants, 0) as full_funding_grants,
    coalesce(grant_months.education_grant_amount, 0) as education_grant_amount,
    coalesce(facility_months.facilities_accepted, 0) as facilities_accepted,
    coalesce(facility_months.workers_homes_accepted, 0) as workers_homes_accepted,
    coalesce(aid_months.hardship_aid_records, 0) as hardship_aid_records,
    coalesce(aid_months.hardship_registrations, 0) as hardship_registrations,
    coalesce(aid_months.hardship_aid_amount, 0) as hardship_aid_amount,
    coalesce(contract_signed.contracts_signed, 0) as contracts_signed,
    coalesce(contract_ending.contracts_ending, 0) as contracts_ending,
    coalesce(contract_ending.contracts_ending_renewed_within_30d, 0) as contracts_ending_renewed_within_30d
from street_months
left join cases_received using (street_code, month_start)
left join cases_closed using (street_code, month_start)
left join tickets_received using (street_code, month_start)
left join tickets_due using (street_code, month_start)
left join legal using (street_code, month_start)
left join training using (street_code, month_start)
left join grant_months using (street_code, month_start)
left join facility_months using (street_code, month_start)
left join aid_months using (street_code, month_start)
left join contract_signed using (street_code, month_start)
left join contract_ending using (street_code, month_start)
