-- W06 企业迁出注销: orgs 正常 in their street's previous snapshot and in one of
-- `statuses` in its latest (on or before the as-of date). Metric: employees (before).

with pairs as (
    select * from {{ ref('warning_org_pairs') }}
)

select
    'W06' as rule_code,
    street_code,
    'org:' || street_code || ':' || org_id as entity_key,
    cast(previous_snapshot as {{ text_type() }}) || '/' || cast(snapshot as {{ text_type() }}) as alert_window,
    {{ json_object_text([('employees', 'coalesce(employees_before, 0)')]) }} as metrics,
    {{ json_object_text(org_pair_evidence_pairs()) }} as evidence,
    coalesce(employer_name, '') || '（工会' || org_id || '）' || cast(previous_snapshot as {{ text_type() }}) || '至'
        || cast(snapshot as {{ text_type() }}) || '间由正常变为' || status_after || '，'
        || coalesce('职工' || employees_before || '人', '职工人数未填') as message_body
from pairs
where status_before = {{ active_org_status() }}
    and status_after in {{ warning_param_values('W06', 'statuses') }}
