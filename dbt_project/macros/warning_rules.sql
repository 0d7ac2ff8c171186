{#
  The warning rules' parameters and as-of date, read by the models in models/warnings.

  The pipeline passes the rule file's parameters as var('warning_parameters'): rows of
  [rule code, parameter name, value as text], a list parameter one row per item (see
  pipelines/alerts/rulefile.py, RuleSet.parameter_rows). Without the var (dbt run by
  hand) the default rule file's, generated into macros/generated/warning_parameters.sql.
  The model warning_parameters holds them, with the as-of date, so the rule models
  read their parameters from a table: the rules compile once, whatever the values.
#}

{% macro warning_parameter_rows() -%}
    {{ return(var('warning_parameters', default_warning_parameters())) }}
{%- endmacro %}

{# one parameter of one rule, cast to `type` (a scalar subquery) #}
{% macro warning_param(rule_code, name, type) -%}
    (select cast(max(param_value) as {{ type }}) from {{ ref('warning_parameters') }}
     where rule_code = '{{ rule_code }}' and param_name = '{{ name }}')
{%- endmacro %}

{# the values of a list parameter (a subquery for `in`) #}
{% macro warning_param_values(rule_code, name) -%}
    (select param_value from {{ ref('warning_parameters') }}
     where rule_code = '{{ rule_code }}' and param_name = '{{ name }}')
{%- endmacro %}

{# the as-of date the rules are evaluated at #}
{% macro warning_as_of() -%}
    {{ warning_param('', 'as_of_date', 'date') }}
{%- endmacro %}

{#
  A dispute case as of the evaluation date (the marts' own flags are for the build's
  as-of date; these take the date the rule is evaluated at).
#}
{% macro case_closed_by(as_of) -%}
    (status in ({{ closed_case_statuses() }}) and closed_date is not null and closed_date <= {{ as_of }})
{%- endmacro %}

{# the status a case had on the evaluation date: its outcome once closed, else 未结案
   for a case whose closing came later #}
{% macro case_state_as_of(as_of) -%}
    case when {{ case_closed_by(as_of) }} or status in ({{ open_case_statuses() }}) then status
         else '未结案' end
{%- endmacro %}

{# the evidence of one dispute case, as [key, expression] pairs #}
{% macro case_evidence_pairs(as_of) -%}
    {{ return([
        ('case_id', 'case_id'),
        ('street_code', 'street_code'),
        ('employer_name', 'employer_name'),
        ('credit_code', 'credit_code'),
        ('dispute_type', 'dispute_type'),
        ('workers_involved', 'workers_involved'),
        ('received_date', 'received_date'),
        ('status_as_of', case_state_as_of(as_of)),
        ('closed_date', 'case when closed_date <= ' ~ as_of ~ ' then closed_date end'),
        ('amount_claimed_yuan', round_half_even('amount_claimed', 2)),
    ]) }}
{%- endmacro %}

{# the evidence of an org in two consecutive snapshots (model warning_org_pairs) #}
{% macro org_pair_evidence_pairs() -%}
    {{ return([
        ('org_id', 'org_id'),
        ('street_code', 'street_code'),
        ('org_name', 'org_name'),
        ('employer_name', 'employer_name'),
        ('credit_code', 'credit_code'),
        ('previous_snapshot', 'previous_snapshot'),
        ('snapshot', 'snapshot'),
        ('status_before', 'status_before'),
        ('status_after', 'status_after'),
        ('employees_before', 'employees_before'),
        ('employees_after', 'employees_after'),
    ]) }}
{%- endmacro %}

{#
  Each street's latest two snapshot dates on or before the as-of date, from a relation
  with (street_code, as_of_date): one row per street that has two, with
  previous_snapshot and snapshot. Emits a query (use it as a CTE body).
#}
{% macro latest_two_snapshots(relation) -%}
    select
        street_code,
        max(case when recency = 2 then as_of_date end) as previous_snapshot,
        max(case when recency = 1 then as_of_date end) as snapshot
    from (
        select
            dates.street_code,
            dates.as_of_date,
            row_number() over (partition by dates.street_code order by dates.as_of_date desc) as recency
        from (
            select distinct street_code, as_of_date
            from {{ relation }}
            where as_of_date <= {{ warning_as_of() }}
        ) as dates
    ) as ranked
    where recency <= 2
    group by street_code
    having count(*) = 2
{%- endmacro %}
