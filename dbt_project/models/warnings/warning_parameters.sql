-- The as-of date and the warning rules' parameters the rule models read: one row per
-- parameter value, as text (rule_code '' holds the as-of date).

{%- set rows = warning_parameter_rows() %}

select '' as rule_code, 'as_of_date' as param_name, cast({{ as_of_date() }} as {{ text_type() }}) as param_value
{%- for code, name, value in rows %}
union all
select '{{ code }}', '{{ name }}', '{{ value | replace("'", "''") }}'
{%- endfor %}
