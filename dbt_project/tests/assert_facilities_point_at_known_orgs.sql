-- Cross-dataset integrity (warn): every facility belongs to a union org the same
-- street has listed in some union_orgs snapshot.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_facilities'}}}) }}
{# meta.dagster.ref: the model whose rows this reports; Dagster shows the test as its check #}

with known_orgs as (
    select distinct street_code, org_id from {{ ref('int_org_snapshots') }}
)

select facilities.street_code, facilities.facility_id, facilities.org_id
from {{ ref('fct_facilities') }} as facilities
left join known_orgs
    on facilities.street_code = known_orgs.street_code
    and facilities.org_id = known_orgs.org_id
where known_orgs.org_id is null
