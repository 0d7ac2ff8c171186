-- Versions of every union organisation from successive snapshots of its street
-- (SCD type 2): a new version when it appears, reappears, or changes status, name,
-- employer, industry, ownership or one of its yes/no attributes. Head counts change
-- every snapshot and live in int_org_snapshots, not here.

with org_rows as (
    select * from {{ ref('int_org_snapshots') }}
),

{{ registry_versions(
    'org_rows', 'union_orgs', ['street_code', 'org_id'],
    ['status', 'org_name', 'employer_name', 'credit_code', 'industry', 'ownership',
     'legal_person_registered', 'union_credit_code', 'has_mediation_committee',
     'has_workers_congress', 'factory_affairs_open', 'is_model_enterprise']
) }},

versions_in_order as (
    select
        *,
        row_number() over org_timeline as version_number,
        lag(status) over org_timeline as previous_version_status,
        lag(valid_to) over org_timeline as previous_version_valid_to
    from entity_versions
    window org_timeline as (partition by street_code, org_id order by valid_from)
)

select
    md5(street_code || '|' || org_id || '|' || cast(valid_from as {{ text_type() }})) as org_version_key,
    street_code || ':' || org_id as org_key,
    street_code,
    org_id,
    version_number,
    {{ version_validity_columns() }},
    case when previous_version_valid_to = valid_from then previous_version_status end as previous_status,
    status,
    org_name,
    employer_name,
    credit_code,
    industry,
    ownership,
    legal_person_registered,
    union_credit_code,
    has_mediation_committee,
    has_workers_congress,
    factory_affairs_open,
    is_model_enterprise,
    last_submission_sha256
from versions_in_order
