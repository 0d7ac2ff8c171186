{#
  Layers are schemas of their own (staging, intermediate, marts, reference), named as
  configured, not prefixed with the target schema: analysts query marts.dim_member.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
