-- Cross-dataset integrity (warn): a person (keyed ID hash) is active (在会) in at most
-- one street's current members snapshot. dim_member counts the streets listing each
-- person; the streets of those listed twice come from stg_members (exactly the current
-- snapshots). Returns the masked ID and the streets, never the ID itself.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'dim_member'}}}) }}
{# meta.dagster.ref: the model whose rows this reports; Dagster shows the test as its check #}

with listed_twice as (
    select member_key
    from {{ ref('dim_member') }}
    where active_street_count > 1
)

select
    any_value(id_number_masked) as id_number_masked,
    {{ sorted_distinct_string_agg('street_code', "','") }} as streets
from {{ ref('stg_members') }}
where status = '在会'
    and id_number_hash in (select member_key from listed_twice)
group by id_number_hash
