{#
  The as-of date of the build: var('as_of_date') (YYYY-MM-DD), or the day dbt runs.
  Rendered as a DATE literal, so compiled SQL shows which date a build used.
#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', '') -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {%- set value = modules.datetime.date.today().isoformat() -%}
    {%- endif -%}
    {%- set value = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error("var('as_of_date') must be YYYY-MM-DD, got " ~ value) }}
    {%- endif -%}
    date '{{ value }}'
{%- endmacro %}
