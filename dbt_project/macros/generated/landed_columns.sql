{# Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit. #}
{# The rename/cast select list of a landing table: contract columns typed, personal
   columns left out (members.id_number becomes id_number_hash / id_number_masked /
   birth_year), the landing audit columns renamed. Extra columns are ignored. #}
{% macro landed_columns(dataset) -%}
{%- if dataset == 'union_orgs' %}
    cast(org_id as varchar) as org_id,
    cast(org_name as varchar) as org_name,
    cast(employer_name as varchar) as employer_name,
    cast(credit_code as varchar) as credit_code,
    cast(street_code as varchar) as street_code,
    cast(industry as varchar) as industry,
    cast(ownership as varchar) as ownership,
    cast(employees as bigint) as employees,
    cast(members as bigint) as members,
    cast(founded_date as date) as founded_date,
    cast(legal_person_registered as boolean) as legal_person_registered,
    cast(union_credit_code as varchar) as union_credit_code,
    cast(has_mediation_committee as boolean) as has_mediation_committee,
    cast(has_workers_congress as boolean) as has_workers_congress,
    cast(factory_affairs_open as boolean) as factory_affairs_open,
    cast(is_model_enterprise as boolean) as is_model_enterprise,
    cast(status as varchar) as status,
    cast(as_of_date as date) as as_of_date,
    cast(_submission_sha256 as varchar) as submission_sha256,
    cast(_ingest_seq as bigint) as ingest_seq,
    cast(_line_number as bigint) as line_number
{%- elif dataset == 'members' %}
    cast(member_id as varchar) as member_id,
    {{ pii_hash('cast(id_number as varchar)') }} as id_number_hash,
    {{ mask_id('cast(id_number as varchar)') }} as id_number_masked,
    try_cast(substr(cast(id_number as varchar), 7, 4) as integer) as birth_year,
    cast(gender as varchar) as gender,
    cast(birth_date as date) as birth_date,
    cast(org_id as varchar) as org_id,
    cast(street_code as varchar) as street_code,
    cast(join_date as date) as join_date,
    cast(status as varchar) as status,
    cast(worker_type as varchar) as worker_type,
    cast(jingka_issued as boolean) as jingka_issued,
    coalesce(cast(model_worker as varchar), '无') as model_worker,
    cast(as_of_date as date) as as_of_date,
    cast(_submission_sha256 as varchar) as submission_sha256,
    cast(_ingest_seq as bigint) as ingest_seq,
    cast(_line_number as bigint) as line_number
{%- elif dataset == 'street_staff' %}
    cast(staff_id as varchar) as staff_id,
    cast(role as varchar) as role,
    cast(appointed_date as date) as appointed_date,
    cast(active as boolean) as active,
    cast(street_code as varchar) as street_code,
    cast(as_of_date as date) as as_of_date,
    cast(_submission_sha256 as varchar) as submission_sha256,
    cast(_ingest_seq as bigint) as ingest_seq,
    cast(_line_number as bigint) as line_number
{%- elif dataset == 'collective_contracts' %}
    cast(contract_id as varchar) as contract_id,
    cast(org_id as varchar) as org_id,
    cast(street_code as varchar) as street_code,
    cast(contract_type as varchar) as contract_type,
    cast(signed_date as date) as signed_date,
    cast(start_date as date) as start_date,
    cast(end_date as date) as end_date,
    cast(employees_covered as bigint) as employees_covered,
    cast(wage_increase_pct as double) as wage_increase_pct,
    cast(standardized as boolean) as standardized,
    cast(renews_contract_id as varchar) as renews_contract_id,
    cast(_submission_sha256 as varchar) as submission_sha256,
    cast(_ingest_seq as bigint) as ingest_seq,
    cast(_line_number as bigint) as line_number
{%- elif dataset == 'dispute_cases' %}
    cast(case_id as varchar) as case_id,
    cast(street_code as varchar) as street_code,
    cast(employer_name as varchar) as employer_name,
    cast(credit_code as varchar) as credit_code,
    cast(org_id as varchar) as org_id,
    cast(received_date as date) as received_date,
    cast(dispute_type as varchar) as dispute_type,
    cast(workers_involved as bigint) as workers_involved,
    cast(amount_claimed as decimal(18, 2)) as amount_claimed,
    cast(status as varchar) as status,
    cast(closed_date as date) as closed_date,
    cast(amount_settled as decimal(18, 2)) as amount_settled,
    cast(_submission_sha256 as varchar) as submission_sha256,
    cast(_ingest_seq as bigint) as ingest_seq,
    cast(_line_number as bigint) as line_number
{%- elif dataset == 'hotline_tickets' %}
    cast(ticket_id as varchar) as ticket_id,
    cast(street_code as varchar) as street_code,
    cast(received_at as timestamp) as received_at,
    cast(category as varchar) as category,
    cast(employer_name as varchar) as employer_name,
    cast(credit_code as varchar) as credit_code,
    cast(deadline_at as timestamp) as deadline_at,
    cast(responded_at as timestamp) as responded_at,
    cast(closed_at as timestamp) as closed_at,
    cast(satisfied as boolean) as satisfied,
    cast(_submission_sha256 as varchar) as submission_sha256,
    cast(_ingest_seq as bigint) as ingest_seq,
    cast(_line_number as bigint) as line_number
{%- elif dataset == 'legal_services' %}
    cast(service_id as varchar) as service_id,
    cast(street_code as varchar) as street_code,
    cast(service_date as date) as service_date,
    cast(service_type as varchar) as service_type,
    cast(people_served as bigint) as people_served,
    cast(_submission_sha256 as varchar) as submission_sha256,
    cast(_ingest_seq as bigint) as ingest_seq,
    cast(_line_number as bigint) as line_number
{%- elif dataset == 'training_events' %}
    cast(event_id as varchar) as event_id,
    cast(street_code as varchar) as street_code,
    cast(event_type as varchar) as event_type,
    cast(title as varchar) as title,
    cast(event_date as date) as event_date,
    cast(venue_type as varchar) as venue_type,
    cast(participants as bigint) as participants,
    cast(_submission_sha256 as varchar) as submission_sha256,
    cast(_ingest_seq as bigint) as ingest_seq,
    cast(_line_number as bigint) as line_number
{%- elif dataset == 'education_grants' %}
    cast(grant_id as varchar) as grant_id,
    cast(member_id as varchar) as member_id,
    cast(street_code as varchar) as street_code,
    cast(program as varchar) as program,
    cast(approved_date as date) as approved_date,
    cast(amount as decimal(18, 2)) as amount,
    cast(full_funding as boolean) as full_funding,
    cast(_submission_sha256 as varchar) as submission_sha256,
    cast(_ingest_seq as bigint) as ingest_seq,
    cast(_line_number as bigint) as line_number
{%- elif dataset == 'facilities' %}
    cast(facility_id as varchar) as facility_id,
    cast(org_id as varchar) as org_id,
    cast(street_code as varchar) as street_code,
    cast(facility_type as varchar) as facility_type,
    cast(level as varchar) as level,
    cast(stage as varchar) as stage,
    cast(stage_date as date) as stage_date,
    cast(funding_amount as decimal(18, 2)) as funding_amount,
    cast(subsidy_amount as decimal(18, 2)) as subsidy_amount,
    cast(_submission_sha256 as varchar) as submission_sha256,
    cast(_ingest_seq as bigint) as ingest_seq,
    cast(_line_number as bigint) as line_number
{%- elif dataset == 'hardship_cases' %}
    cast(aid_id as varchar) as aid_id,
    cast(member_id as varchar) as member_id,
    cast(street_code as varchar) as street_code,
    cast(cause as varchar) as cause,
    cast(aid_type as varchar) as aid_type,
    cast(aid_date as date) as aid_date,
    cast(aid_amount as decimal(18, 2)) as aid_amount,
    cast(_submission_sha256 as varchar) as submission_sha256,
    cast(_ingest_seq as bigint) as ingest_seq,
    cast(_line_number as bigint) as line_number
{%- else -%}
    {{ exceptions.raise_compiler_error('landed_columns: unknown dataset ' ~ dataset) }}
{%- endif %}
{%- endmacro %}
