{#
  Personal data (submissions.md §6). The key lives in the DuckDB session variable
  `union_pii_key`, set by the dbt-duckdb plugin pipelines.warehouse.dbt_pii from
  UNION_PII_KEY: it never appears in SQL text, compiled files or logs. Without the key
  the query fails rather than produce unkeyed (or null) hashes.
#}

{% macro pii_key() -%}
    coalesce(cast(getvariable('union_pii_key') as varchar), error('union_pii_key is not set: run dbt with the pipelines.warehouse.dbt_pii plugin'))
{%- endmacro %}

{% macro pii_hash(col) -%}
    sha256({{ pii_key() }} || sha256({{ pii_key() }} || {{ col }}))
{%- endmacro %}

{% macro mask_id(col) -%}
    (left({{ col }}, 6) || '********' || right({{ col }}, 4))
{%- endmacro %}

{% macro birth_year_of_id(col) -%}
    try_cast(substr({{ col }}, 7, 4) as integer)
{%- endmacro %}
