{#
  Every enum column of a staging model holds only the values the contract lists for it
  (contract_enum), and every street code is in the street list: one test per model, in one
  scan, instead of one accepted_values test per enum column and a relationships test for
  street_code (dbt spends some 70 ms on a test whatever it checks). Ingestion quarantines
  rows that break these rules, so a failure here means a door or a landing file bypassed
  it. A failure names each column and how many rows hold a value outside the contract.
#}
{% test contract_values(model, dataset, enum_columns=[]) %}

with checked as (

    select
        {% for column in enum_columns -%}
        sum(case
            when checked_rows.{{ column }} is not null
                and checked_rows.{{ column }} not in (
                    {%- for value in contract_enum(dataset, column) -%}
                    '{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}
                    {%- endfor -%})
            then 1 else 0 end) as outside_{{ loop.index }},
        {% endfor -%}
        sum(case when checked_rows.street_code is not null and known_streets.code is null
            then 1 else 0 end) as unknown_streets
    from {{ model }} as checked_rows
    left join {{ ref('streets') }} as known_streets
        on checked_rows.street_code = known_streets.code

)

{% for column in enum_columns -%}
select '{{ column }}' as column_name, outside_{{ loop.index }} as failing_rows
from checked
where outside_{{ loop.index }} > 0
union all
{% endfor -%}
select 'street_code' as column_name, unknown_streets as failing_rows
from checked
where unknown_streets > 0

{% endtest %}
