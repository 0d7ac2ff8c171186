-- What the warning rules W01-W09 find, one row per entity (a case, an employer, a
-- contract, a ticket, a street, an org), before any level: the alert service levels
-- each finding with the rule file's thresholds and keeps the alerts' lifecycle.
-- metrics and evidence are JSON objects; message is the one-line Chinese body.

{%- set rules = [
    'warn_w01_collective_disputes',
    'warn_w02_wage_arrears',
    'warn_w03_dispute_surges',
    'warn_w04_unrenewed_contracts',
    'warn_w05_overdue_tickets',
    'warn_w06_departures',
    'warn_w07_layoffs',
    'warn_w08_success_rate_drops',
    'warn_w09_overdue_mediation',
] %}

with findings as (
    {%- for rule in rules %}
    select rule_code, street_code, entity_key, alert_window, metrics, evidence, message_body
    from {{ ref(rule) }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

areas as (
    select * from {{ ref('warning_areas') }}
),

district as (
    select area_code, area_name from areas where street_code is null
)

select
    findings.rule_code,
    coalesce(streets.area_code, district.area_code) as area_code,
    findings.entity_key,
    findings.alert_window,
    findings.metrics,
    findings.evidence,
    coalesce(streets.area_name, district.area_name) || findings.message_body as message
from findings
cross join district
left join areas as streets on streets.street_code = findings.street_code
