-- Cross-dataset integrity (warn): a person (keyed ID hash) is active (在会) in at most
-- one street's current members snapshot (stg_members holds exactly those snapshots).
-- Returns the masked ID and the streets, never the ID itself.
{{ config(severity='warn') }}

select
    any_value(id_number_masked) as id_number_masked,
    string_agg(distinct street_code, ',' order by street_code) as streets
from {{ ref('stg_members') }}
where status = '在会'
group by id_number_hash
having count(distinct street_code) > 1
