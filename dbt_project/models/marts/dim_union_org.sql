-- The grassroots unions as they stand now: each street's current union_orgs snapshot
-- (latest on or before var('as_of_date')), one row per street and org.

with current_orgs as (
    select * from {{ ref('stg_union_orgs') }}
),

first_seen as (
    select street_code, org_id, min(as_of_date) as first_seen_as_of_date
    from {{ ref('int_org_snapshots') }}
    group by street_code, org_id
),

industry_sections as (
    select section, section_name from {{ ref('industry_sections') }}
)

select
    current_orgs.street_code || ':' || current_orgs.org_id as org_key,
    current_orgs.street_code,
    current_orgs.org_id,
    current_orgs.org_name,
    current_orgs.employer_name,
    current_orgs.credit_code,
    current_orgs.industry,
    industry_sections.section_name as industry_name,
    current_orgs.ownership,
    current_orgs.employees,
    current_orgs.members,
    current_orgs.founded_date,
    current_orgs.legal_person_registered,
    current_orgs.union_credit_code,
    current_orgs.has_mediation_committee,
    current_orgs.has_workers_congress,
    current_orgs.factory_affairs_open,
    current_orgs.is_model_enterprise,
    current_orgs.status,
    current_orgs.status = {{ active_org_status() }} as is_active,
    {{ is_large_model_enterprise("current_orgs") }} as is_large_model_enterprise,
    current_orgs.as_of_date as snapshot_as_of_date,
    first_seen.first_seen_as_of_date,
    current_orgs.submission_sha256
from current_orgs
left join first_seen
    on current_orgs.street_code = first_seen.street_code
    and current_orgs.org_id = first_seen.org_id
left join industry_sections on current_orgs.industry = industry_sections.section
