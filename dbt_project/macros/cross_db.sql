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
{% macro spark__regexp_replace_all(expr, pattern, replacement) -%}
    {#- Spark unescapes backslashes in string literals: double them to keep the pattern's -#}
    regexp_replace({{ expr }}, {{ pattern | replace('\\', '\\\\') }}, {{ replacement }})
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
{% macro spark__json_object_text(pairs) -%}
    {#- DuckDB writes an infinite or NaN double bare (Infinity, not valid JSON), Spark quoted:
        unquoted here, as DuckDB has it (a text value that is exactly "Infinity" or "NaN"
        would be unquoted too) -#}
    regexp_replace(to_json(named_struct(
        {%- for key, expr in pairs %}'{{ key }}', {{ expr }}{{ ", " if not loop.last }}{% endfor -%}
    ), map('ignoreNullFields', 'false', 'timestampNTZFormat', 'yyyy-MM-dd HH:mm:ss')), ':"(-?Infinity|NaN)"([,}])', ':$1$2')
{%- endmacro %}

{# aggregate: the values of `expr` where `condition` holds, sorted, the first `limit` #}
{% macro sorted_list_agg(expr, condition='true', limit=50) -%}
    {{ return(adapter.dispatch('sorted_list_agg', 'union_warehouse')(expr, condition, limit)) }}
{%- endmacro %}
{% macro default__sorted_list_agg(expr, condition, limit) -%}
    coalesce(list_slice(list_sort(list({{ expr }}) filter (where {{ condition }})), 1, {{ limit }}), [])
{%- endmacro %}
{% macro spark__sorted_list_agg(expr, condition, limit) -%}
    coalesce(slice(array_sort(collect_list({{ expr }}) filter (where {{ condition }})), 1, {{ limit }}), array())
{%- endmacro %}

{# aggregate: the distinct values of `expr`, sorted #}
{% macro sorted_distinct_agg(expr) -%}
    {{ return(adapter.dispatch('sorted_distinct_agg', 'union_warehouse')(expr)) }}
{%- endmacro %}
{% macro default__sorted_distinct_agg(expr) -%}
    list_sort(list(distinct {{ expr }}))
{%- endmacro %}
{% macro spark__sorted_distinct_agg(expr) -%}
    array_sort(collect_set({{ expr }}))
{%- endmacro %}

{# a number as text with `digits` decimals (half to even, like Python's format) #}
{% macro format_fixed(expr, digits=1) -%}
    {{ return(adapter.dispatch('format_fixed', 'union_warehouse')(expr, digits)) }}
{%- endmacro %}
{% macro default__format_fixed(expr, digits) -%}
    printf('%.{{ digits }}f', {{ expr }})
{%- endmacro %}
{% macro spark__format_fixed(expr, digits) -%}
    {#- format_number rounds the double's exact value half to even, as printf does; it
        groups thousands, which format_fixed does not -#}
    replace(format_number(cast({{ expr }} as double), {{ digits }}), ',', '')
{%- endmacro %}

{# a number as text with thousands separators and two decimals: 1,234,567.50 #}
{% macro format_money(expr) -%}
    {{ return(adapter.dispatch('format_money', 'union_warehouse')(expr)) }}
{%- endmacro %}
{% macro default__format_money(expr) -%}
    format('{:,.2f}', cast({{ expr }} as double))
{%- endmacro %}
{% macro spark__format_money(expr) -%}
    format_number(cast({{ expr }} as double), 2)
{%- endmacro %}

{# a timestamp as text to the minute: 2015-12-20 09:05 #}
{% macro format_minute(expr) -%}
    {{ return(adapter.dispatch('format_minute', 'union_warehouse')(expr)) }}
{%- endmacro %}
{% macro default__format_minute(expr) -%}
    strftime({{ expr }}, '%Y-%m-%d %H:%M')
{%- endmacro %}
{% macro spark__format_minute(expr) -%}
    date_format({{ expr }}, 'yyyy-MM-dd HH:mm')
{%- endmacro %}

{# whole seconds from `start` to `end` (timestamps) #}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between', 'union_warehouse')(start, end)) }}
{%- endmacro %}
{% macro default__seconds_between(start, end) -%}
    (epoch({{ end }}) - epoch({{ start }}))
{%- endmacro %}
{% macro spark__seconds_between(start, end) -%}
    (unix_timestamp({{ end }}) - unix_timestamp({{ start }}))
{%- endmacro %}

{# a date `n` days after `expr` (n may be negative or an expression) #}
{% macro add_days(expr, n) -%}
    {{ return(adapter.dispatch('add_days', 'union_warehouse')(expr, n)) }}
{%- endmacro %}
{% macro default__add_days(expr, n) -%}
    cast({{ expr }} + cast({{ n }} as integer) as date)
{%- endmacro %}
{% macro spark__add_days(expr, n) -%}
    date_add({{ expr }}, cast({{ n }} as integer))
{%- endmacro %}

{# whole days from date `start` to date `end` #}
{% macro days_between(start, end) -%}
    {{ return(adapter.dispatch('days_between', 'union_warehouse')(start, end)) }}
{%- endmacro %}
{% macro default__days_between(start, end) -%}
    date_diff('day', {{ start }}, {{ end }})
{%- endmacro %}
{% macro spark__days_between(start, end) -%}
    datediff({{ end }}, {{ start }})
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
{% macro spark__round_half_even(expr, digits) -%}
    bround(cast({{ expr }} as double), {{ digits }})
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


{# the type of text columns: varchar (DuckDB), string (Spark: no varchar without a length) #}
{% macro text_type() -%}
    {{ return(contract_sql_type('str')) }}
{%- endmacro %}

{# a point in time with its zone, as parsed from an ISO text with an offset #}
{% macro instant_type() -%}
    {{ return(adapter.dispatch('instant_type', 'union_warehouse')()) }}
{%- endmacro %}
{% macro default__instant_type() -%}
    timestamptz
{%- endmacro %}
{% macro spark__instant_type() -%}
    timestamp_ltz
{%- endmacro %}

{# date `expr` plus `n` months (n may be an expression) #}
{% macro months_after(expr, n) -%}
    {{ return(adapter.dispatch('months_after', 'union_warehouse')(expr, n)) }}
{%- endmacro %}
{% macro default__months_after(expr, n) -%}
    {{ expr }} + to_months({{ n }})
{%- endmacro %}
{% macro spark__months_after(expr, n) -%}
    add_months({{ expr }}, {{ n }})
{%- endmacro %}

{# days from date `start` to date `end`, written as a subtraction (DuckDB's date minus date) #}
{% macro date_difference(end, start) -%}
    {{ return(adapter.dispatch('date_difference', 'union_warehouse')(end, start)) }}
{%- endmacro %}
{% macro default__date_difference(end, start) -%}
    {{ end }} - {{ start }}
{%- endmacro %}
{% macro spark__date_difference(end, start) -%}
    datediff({{ end }}, {{ start }})
{%- endmacro %}

{# whole hours from timestamp `start` to timestamp `end` (hour boundaries crossed, as
   DuckDB's date_diff('hour', ...) counts them) #}
{% macro hours_between(start, end) -%}
    {{ return(adapter.dispatch('hours_between', 'union_warehouse')(start, end)) }}
{%- endmacro %}
{% macro default__hours_between(start, end) -%}
    date_diff('hour', {{ start }}, {{ end }})
{%- endmacro %}
{% macro spark__hours_between(start, end) -%}
    cast((unix_timestamp(date_trunc('hour', {{ end }})) - unix_timestamp(date_trunc('hour', {{ start }}))) / 3600 as bigint)
{%- endmacro %}

{# integer division, rounding toward minus infinity for positive operands #}
{% macro int_div(a, b) -%}
    {{ return(adapter.dispatch('int_div', 'union_warehouse')(a, b)) }}
{%- endmacro %}
{% macro default__int_div(a, b) -%}
    {{ a }} // {{ b }}
{%- endmacro %}
{% macro spark__int_div(a, b) -%}
    {{ a }} div {{ b }}
{%- endmacro %}

{# a date as text: its year and month, 2015-07 #}
{% macro format_month(expr) -%}
    {{ return(adapter.dispatch('format_month', 'union_warehouse')(expr)) }}
{%- endmacro %}
{% macro default__format_month(expr) -%}
    strftime({{ expr }}, '%Y-%m')
{%- endmacro %}
{% macro spark__format_month(expr) -%}
    date_format({{ expr }}, 'yyyy-MM')
{%- endmacro %}

{# aggregate: `expr` (text) joined with `separator` in the order of `order_by` #}
{% macro ordered_string_agg(expr, separator, order_by) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'union_warehouse')(expr, separator, order_by)) }}
{%- endmacro %}
{% macro default__ordered_string_agg(expr, separator, order_by) -%}
    string_agg({{ expr }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}
{% macro spark__ordered_string_agg(expr, separator, order_by) -%}
    array_join(transform(array_sort(collect_list(named_struct('k', {{ order_by }}, 'v', {{ expr }}))), x -> x.v), {{ separator }})
{%- endmacro %}

{# aggregate: the values of `expr` in the order of `order_by` (a list of expressions) #}
{% macro ordered_list_agg(expr, order_by) -%}
    {{ return(adapter.dispatch('ordered_list_agg', 'union_warehouse')(expr, order_by)) }}
{%- endmacro %}
{% macro default__ordered_list_agg(expr, order_by) -%}
    list({{ expr }}
        order by {{ order_by | join(', ') }})
{%- endmacro %}
{% macro spark__ordered_list_agg(expr, order_by) -%}
    transform(array_sort(collect_list(named_struct(
        {%- for key in order_by %}'k{{ loop.index }}', {{ key }}, {% endfor %}'v', {{ expr }}))), x -> x.v)
{%- endmacro %}

{# the value of `expr` on the row where `ordering` is largest (one of them on a tie) #}
{% macro arg_max(expr, ordering) -%}
    {{ return(adapter.dispatch('arg_max', 'union_warehouse')(expr, ordering)) }}
{%- endmacro %}
{% macro default__arg_max(expr, ordering) -%}
    arg_max({{ expr }}, {{ ordering }})
{%- endmacro %}
{% macro spark__arg_max(expr, ordering) -%}
    max_by({{ expr }}, {{ ordering }})
{%- endmacro %}

{# the keyword of a semi join (rows of the left side with a match on the right, once) #}
{% macro semi_join() -%}
    {{ return(adapter.dispatch('semi_join', 'union_warehouse')()) }}
{%- endmacro %}
{% macro default__semi_join() -%}
    semi join
{%- endmacro %}
{% macro spark__semi_join() -%}
    left semi join
{%- endmacro %}

{# a row per month from the month of date `start` to the month of date `end`: a select
   list item named `alias` #}
{% macro month_starts(start, end, alias) -%}
    {{ return(adapter.dispatch('month_starts', 'union_warehouse')(start, end, alias)) }}
{%- endmacro %}
{% macro default__month_starts(start, end, alias) -%}
    cast(unnest(generate_series(
        {{ start }},
        {{ end }},
        interval 1 month
    )) as date) as {{ alias }}
{%- endmacro %}
{% macro spark__month_starts(start, end, alias) -%}
    explode(sequence(cast({{ start }} as date), cast({{ end }} as date), interval 1 month)) as {{ alias }}
{%- endmacro %}


{# the SHA-256 of text `expr`, as 64 hexadecimal digits #}
{% macro sha256_hex(expr) -%}
    {{ return(adapter.dispatch('sha256_hex', 'union_warehouse')(expr)) }}
{%- endmacro %}
{% macro default__sha256_hex(expr) -%}
    sha256({{ expr }})
{%- endmacro %}
{% macro spark__sha256_hex(expr) -%}
    sha2({{ expr }}, 256)
{%- endmacro %}

{# window over every row: `expr` (text) joined with `separator` in the order of `order_by` #}
{% macro ordered_string_agg_over_all(expr, separator, order_by) -%}
    {{ return(adapter.dispatch('ordered_string_agg_over_all', 'union_warehouse')(expr, separator, order_by)) }}
{%- endmacro %}
{% macro default__ordered_string_agg_over_all(expr, separator, order_by) -%}
    {{ ordered_string_agg(expr, separator, order_by) }} over ()
{%- endmacro %}
{% macro spark__ordered_string_agg_over_all(expr, separator, order_by) -%}
    array_join(transform(array_sort(collect_list(named_struct('k', {{ order_by }}, 'v', {{ expr }})) over ()), x -> x.v), {{ separator }})
{%- endmacro %}

{#
  `alias.*` of `relation` followed, in the same select, by columns of the same names
  (`shadowed`). DuckDB keeps both and renames the later ones (name_1): a reference to the
  name reads the star's column. Spark rejects the ambiguity: its star leaves the
  shadowed columns out, so the name reads the later column. The two agree where both
  columns hold the same value (see the model that calls this).
#}
{% macro star_shadowed(alias, relation, shadowed) -%}
    {{ return(adapter.dispatch('star_shadowed', 'union_warehouse')(alias, relation, shadowed)) }}
{%- endmacro %}
{% macro default__star_shadowed(alias, relation, shadowed) -%}
    {{ alias }}.*
{%- endmacro %}
{% macro spark__star_shadowed(alias, relation, shadowed) -%}
    {%- if not execute -%}{{ return(alias ~ '.*') }}{%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) if column.name not in shadowed -%}
        {%- do names.append(alias ~ '.' ~ adapter.quote(column.name)) -%}
    {%- endfor -%}
    {{ return(names | join(', ')) }}
{%- endmacro %}


{#
  A named window used both by an aggregate over the whole partition and by row_number():
  DuckDB takes a frame of the whole partition in the window and counts over it; Spark
  rejects a frame with row_number(), so there the window has none and the count runs over
  the plain partition (`partition`: its `partition by` clause).
#}
{% macro whole_partition_frame() -%}
    {{ return(adapter.dispatch('whole_partition_frame', 'union_warehouse')()) }}
{%- endmacro %}
{% macro default__whole_partition_frame() -%}
    rows between unbounded preceding and unbounded following
{%- endmacro %}
{% macro spark__whole_partition_frame() -%}
{%- endmacro %}
{% macro count_over_window(window, partition) -%}
    {{ return(adapter.dispatch('count_over_window', 'union_warehouse')(window, partition)) }}
{%- endmacro %}
{% macro default__count_over_window(window, partition) -%}
    count(*) over {{ window }}
{%- endmacro %}
{% macro spark__count_over_window(window, partition) -%}
    count(*) over ({{ partition }})
{%- endmacro %}


{# aggregate: the distinct values of `expr` (text), sorted, joined with `separator` #}
{% macro sorted_distinct_string_agg(expr, separator) -%}
    {{ return(adapter.dispatch('sorted_distinct_string_agg', 'union_warehouse')(expr, separator)) }}
{%- endmacro %}
{% macro default__sorted_distinct_string_agg(expr, separator) -%}
    string_agg(distinct {{ expr }}, {{ separator }} order by {{ expr }})
{%- endmacro %}
{% macro spark__sorted_distinct_string_agg(expr, separator) -%}
    array_join(array_sort(collect_set({{ expr }})), {{ separator }})
{%- endmacro %}


{# a number written with a decimal point that must divide as a double: DuckDB divides by a
   decimal in doubles, Spark in decimals of six places (1 / 12.0 = 0.083333) #}
{% macro float_literal(text) -%}
    {{ return(adapter.dispatch('float_literal', 'union_warehouse')(text)) }}
{%- endmacro %}
{% macro default__float_literal(text) -%}
    {{ text }}
{%- endmacro %}
{% macro spark__float_literal(text) -%}
    cast({{ text }} as double)
{%- endmacro %}


{# a sum typed as DuckDB types it, `scale` the decimal places of `expr`: DuckDB widens the
   sum of a decimal(p, s) to decimal(38, s) and of integers to hugeint (a 38-digit
   integer, which leaves DuckDB through Arrow as decimal(38, 0)); Spark to decimal(p + 10,
   s) and bigint. Where the type reaches the published file (the indicator values, hashed
   for the determinism gate), Spark's sum is cast to the 38 digits #}
{% macro wide_sum(expr, scale=0) -%}
    {{ return(adapter.dispatch('wide_sum', 'union_warehouse')(expr, scale)) }}
{%- endmacro %}
{% macro default__wide_sum(expr, scale) -%}
    sum({{ expr }})
{%- endmacro %}
{% macro spark__wide_sum(expr, scale) -%}
    cast(sum({{ expr }}) as decimal(38, {{ scale }}))
{%- endmacro %}
