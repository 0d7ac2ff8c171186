{#
  dbt's accepted_values on Spark: a boolean value is compared as a boolean (quoted, 'True'
  is a string Spark will not compare with a boolean column; DuckDB casts it).
#}
{% macro spark__test_accepted_values(model, column_name, values, quote=True) %}

with all_values as (

    select
        {{ column_name }} as value_field,
        count(*) as n_records

    from {{ model }}
    group by {{ column_name }}

)

select *
from all_values
where value_field not in (
    {% for value in values -%}
        {% if quote and not (value is sameas true or value is sameas false) -%}
        '{{ value }}'
        {%- else -%}
        {{ value }}
        {%- endif -%}
        {%- if not loop.last -%},{%- endif %}
    {%- endfor %}
)

{% endmacro %}
