{#
  The contract (pipelines/contract), read from its generated data (macros/generated/
  contract.sql): the only place the models learn a dataset's columns, types and enums.
#}

{% macro contract_dataset(dataset) -%}
    {%- set datasets = contract_datasets() -%}
    {%- if dataset not in datasets -%}
        {{ exceptions.raise_compiler_error("unknown dataset '" ~ dataset ~ "': not in the contract") }}
    {%- endif -%}
    {{ return(datasets[dataset]) }}
{%- endmacro %}


{# The values a contract enum column may take; `which='active'`: only those that mean the
   organisation or member is in operation (正常 / 在会). #}
{% macro contract_enum(dataset, column, which='all') -%}
    {%- set spec = contract_dataset(dataset) -%}
    {%- if which == 'active' -%}
        {{ return(spec.active[column]) }}
    {%- endif -%}
    {%- for c in spec.columns if c.name == column and c.enum -%}
        {{ return(c.enum) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(dataset ~ "." ~ column ~ " is not an enum column of the contract") }}
{%- endmacro %}


{# The SQL type of a contract column type, per engine. #}
{% macro contract_sql_type(kind) -%}
    {{ return(adapter.dispatch('contract_sql_type')(kind)) }}
{%- endmacro %}
{% macro default__contract_sql_type(kind) -%}
    {%- set types = {
        'str': 'varchar', 'enum': 'varchar', 'id18': 'varchar', 'uscc': 'varchar', 'phone': 'varchar',
        'int': 'bigint', 'decimal': 'double', 'money': 'decimal(18, 2)',
        'date': 'date', 'datetime': 'timestamp', 'bool': 'boolean'
    } -%}
    {{ return(types[kind]) }}
{%- endmacro %}
{% macro spark__contract_sql_type(kind) -%}
    {#- timestamp: without a time zone (spark.sql.timestampType in the profile) -#}
    {%- set types = {
        'str': 'string', 'enum': 'string', 'id18': 'string', 'uscc': 'string', 'phone': 'string',
        'int': 'bigint', 'decimal': 'double', 'money': 'decimal(18, 2)',
        'date': 'date', 'datetime': 'timestamp', 'bool': 'boolean'
    } -%}
    {{ return(types[kind]) }}
{%- endmacro %}


{# The column names a dataset's staging models carry, in file order (the resident ID as
   its keyed hash, masked form and birth year), without the audit columns. #}
{% macro staged_column_names(dataset) -%}
    {%- set names = [] -%}
    {%- for c in contract_dataset(dataset).columns -%}
        {%- if c.hashed -%}
            {%- for derived in c.hashed -%}{%- do names.append(derived.name) -%}{%- endfor -%}
        {%- else -%}
            {%- do names.append(c.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{# The audit columns every landed row carries (renamed from the landing files' _columns). #}
{% macro landing_audit_column_names() -%}
    {{ return(['submission_sha256', 'ingest_seq', 'line_number']) }}
{%- endmacro %}


{# `names` as a select list, each prefixed with `relation.` when one is given. #}
{% macro column_list(names, relation=none) -%}
    {%- for name in names %}
    {% if relation %}{{ relation }}.{% endif %}{{ name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{# The rename/cast select list of a landing table: contract columns typed, personal
   columns left out (of the resident ID, the warehouse reads only what landing derived
   from it: its keyed hash, masked form and birth year), the landing audit columns
   renamed. Extra columns are ignored. #}
{% macro landed_columns(dataset) -%}
    {%- set text_type = contract_sql_type('str') -%}
    {%- for c in contract_dataset(dataset).columns %}
    {%- if c.hashed %}
    {%- for derived in c.hashed %}
    cast({{ derived.landing }} as {{ contract_sql_type(derived.type) }}) as {{ derived.name }},
    {%- endfor %}
    {%- elif c.default is defined %}
    coalesce(cast({{ c.name }} as {{ contract_sql_type(c.type) }}), '{{ c.default }}') as {{ c.name }},
    {%- else %}
    cast({{ c.name }} as {{ contract_sql_type(c.type) }}) as {{ c.name }},
    {%- endif %}
    {%- endfor %}
    cast(_submission_sha256 as {{ text_type }}) as submission_sha256,
    cast(_ingest_seq as {{ contract_sql_type('int') }}) as ingest_seq,
    cast(_line_number as {{ contract_sql_type('int') }}) as line_number
{%- endmacro %}


{# The registry datasets (snapshots of a street's whole list), in contract order. #}
{% macro registry_datasets() -%}
    {%- set names = [] -%}
    {%- for name, spec in contract_datasets().items() if spec.registry -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{# DC04's 百人以上典型示范企业: a model enterprise with large_enterprise_employees() or more
   employees (columns of `relation` when one is given). #}
{% macro is_large_model_enterprise(relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    ({{ prefix }}employees >= {{ large_enterprise_employees() }} and {{ prefix }}is_model_enterprise)
{%- endmacro %}
