-- Cross-dataset integrity (warn): every collective contract is signed by a union org
-- that the same street has listed in some union_orgs snapshot (a contract may outlive
-- its org's listing, so any snapshot counts).
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_collective_contracts'}}}) }}
{# meta.dagster.ref: the model whose rows this reports; Dagster shows the test as its check #}

with known_orgs as (
    select distinct street_code, org_id from {{ ref('int_org_snapshots') }}
)

select
    contracts.street_code,
    contracts.contract_id,
    contracts.org_id
from {{ ref('stg_collective_contracts') }} as contracts
left join known_orgs
    on contracts.street_code = known_orgs.street_code
    and contracts.org_id = known_orgs.org_id
where known_orgs.org_id is null
