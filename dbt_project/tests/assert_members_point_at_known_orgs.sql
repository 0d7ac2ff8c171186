-- Cross-dataset integrity (warn): every member in a street's current members snapshot
-- belongs to a union org listed in the same street's current union_orgs snapshot.
-- Returns one row per unknown (street, org) with the number of members pointing at it.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_members'}}}) }}
{# meta.dagster.ref: the model whose rows this reports; Dagster shows the test as its check #}

select
    members.street_code,
    members.org_id,
    count(*) as members_pointing_at_unknown_org
from {{ ref('stg_members') }} as members
left join {{ ref('stg_union_orgs') }} as orgs
    on members.street_code = orgs.street_code
    and members.org_id = orgs.org_id
where orgs.org_id is null
group by members.street_code, members.org_id
