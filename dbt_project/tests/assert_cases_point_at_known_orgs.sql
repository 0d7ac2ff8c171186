-- Cross-dataset integrity (warn): a dispute case that names the employer's union org
-- (org_id given) names one the same street has listed in some union_orgs snapshot.
{{ config(severity='warn') }}

select street_code, case_id, org_id
from {{ ref('fct_dispute_cases') }}
where not is_org_known
