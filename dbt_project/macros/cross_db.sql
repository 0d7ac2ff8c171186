{#
  SQL that differs between engines, each behind one dispatched macro (dbt's own
  cross-database macros, dbt.dateadd / dbt.datediff / dbt.date_trunc, cover dates).
  The default__ implementations are DuckDB's; another engine adds its own prefix
  (spark__...) beside them, and no model is copied.
#}

{# every match of `pattern` (a SQL string literal) replaced #}
{% macro regexp_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'union_warehouse')(expr, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{# a JSON object as text: json_object('key', expr, 'key', expr, ...), nulls kept #}
{% macro json_object_text(pairs) -%}
    {{ return(adapter.dispatch('json_object_text', 'union_warehouse')(pairs)) }}
{%- endmacro %}
{% macro default__json_object_text(pairs) -%}
    cast(json_object(
        {%- for key, expr in pairs %}'{{ key }}', {{ expr }}{{ ", " if not loop.last }}{% endfor -%}
    ) as varchar)
{%- endmacro %}

{# aggregate: the values of `expr` where `condition` holds, sorted, the first `limit` #}
{% macro sorted_list_agg(expr, condition='true', limit=50) -%}
    {{ return(adapter.dispatch('sorted_list_agg', 'union_warehouse')(expr, condition, limit)) }}
{%- endmacro %}
{% macro default__sorted_list_agg(expr, condition, limit) -%}
    coalesce(list_slice(list_sort(list({{ expr }}) filter (where {{ condition }})), 1, {{ limit }}), [])
{%- endmacro %}

{# aggregate: the distinct values of `expr`, sorted #}
{% macro sorted_distinct_agg(expr) -%}
    {{ return(adapter.dispatch('sorted_distinct_agg', 'union_warehouse')(expr)) }}
{%- endmacro %}
{% macro default__sorted_distinct_agg(expr) -%}
    list_sort(list(distinct {{ expr }}))
{%- endmacro %}

{# a number as text with `digits` decimals (half to even, like Python's format) #}
{% macro format_fixed(expr, digits=1) -%}
    {{ return(adapter.dispatch('format_fixed', 'union_warehouse')(expr, digits)) }}
{%- endmacro %}
{% macro default__format_fixed(expr, digits) -%}
    printf('%.{{ digits }}f', {{ expr }})
{%- endmacro %}

{# a number as text with thousands separators and two decimals: 1,234,567.50 #}
{% macro format_money(expr) -%}
    {{ return(adapter.dispatch('format_money', 'union_warehouse')(expr)) }}
{%- endmacro %}
{% macro default__format_money(expr) -%}
    format('{:,.2f}', cast({{ expr }} as double))
{%- endmacro %}

{# a timestamp as text to the minute: 2015-12-20 09:05 #}
{% macro format_minute(expr) -%}
    {{ return(adapter.dispatch('format_minute', 'union_warehouse')(expr)) }}
{%- endmacro %}
{% macro default__format_minute(expr) -%}
    strftime({{ expr }}, '%Y-%m-%d %H:%M')
{%- endmacro %}

{# whole seconds from `start` to `end` (timestamps) #}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between', 'union_warehouse')(start, end)) }}
{%- endmacro %}
{% macro default__seconds_between(start, end) -%}
    (epoch({{ end }}) - epoch({{ start }}))
{%- endmacro %}

{# a date `n` days after `expr` (n may be negative or an expression) #}
{% macro add_days(expr, n) -%}
    {{ return(adapter.dispatch('add_days', 'union_warehouse')(expr, n)) }}
{%- endmacro %}
{% macro default__add_days(expr, n) -%}
    cast({{ expr }} + cast({{ n }} as integer) as date)
{%- endmacro %}

{# whole days from date `start` to date `end` #}
{% macro days_between(start, end) -%}
    {{ return(adapter.dispatch('days_between', 'union_warehouse')(start, end)) }}
{%- endmacro %}
{% macro default__days_between(start, end) -%}
    date_diff('day', {{ start }}, {{ end }})
{%- endmacro %}

{# the first day of the quarter of date `expr` #}
{% macro quarter_start(expr) -%}
    {{ return(adapter.dispatch('quarter_start', 'union_warehouse')(expr)) }}
{%- endmacro %}
{% macro default__quarter_start(expr) -%}
    cast(date_trunc('quarter', {{ expr }}) as date)
{%- endmacro %}

{# rounded to `digits` decimals, halves to even (Python's round(), Spark's bround) #}
{% macro round_half_even(expr, digits) -%}
    {{ return(adapter.dispatch('round_half_even', 'union_warehouse')(expr, digits)) }}
{%- endmacro %}
{% macro default__round_half_even(expr, digits) -%}
    round_even(cast({{ expr }} as double), {{ digits }})
{%- endmacro %}


{# Comparisons of computed rates with a target, tolerant of floating-point rounding
   (a rate of 0.6 computed as 0.59999999 meets a 0.6 target). #}
{% macro float_tolerance() %}1e-9{% endmacro %}
{% macro at_least(value, threshold) -%}
    ({{ value }} >= {{ threshold }} - {{ float_tolerance() }})
{%- endmacro %}
{% macro about_equal(value, threshold) -%}
    (abs({{ value }} - ({{ threshold }})) < {{ float_tolerance() }})
{%- endmacro %}


{# The relation a door reads its source through (the doors in models/staging/doors are
   the only readers of source()). DuckDB: the source itself (dbt-duckdb reads
   meta.external_location). Spark has no external sources: the source's
   meta.spark_location (a parquet.`glob` or a query over text.`file`; both generated by
   pipelines/warehouse/dbt_sources.py). source() is called either way, so the door's
   lineage is the same on both engines. #}
{% macro source_relation(source_name, table_name) -%}
    {{ return(adapter.dispatch('source_relation', 'union_warehouse')(source_name, table_name)) }}
{%- endmacro %}
{% macro default__source_relation(source_name, table_name) -%}
    {{ return(source(source_name, table_name)) }}
{%- endmacro %}
{% macro spark__source_relation(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute -%}
        {%- for node in graph.sources.values()
            if node.source_name == source_name and node.name == table_name -%}
            {%- set location = node.config.meta.get('spark_location') or node.meta.get('spark_location') -%}
            {%- if not location -%}
                {{ exceptions.raise_compiler_error("source " ~ source_name ~ "." ~ table_name ~ " has no meta.spark_location") }}
            {%- endif -%}
            {{ return(location) }}
        {%- endfor -%}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
