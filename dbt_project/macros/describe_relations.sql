{#
  Spark's columns of some tables, for the pipeline's mirror of a Spark build into the
  working DuckDB file (pipelines/warehouse/spark_mirror.py), which needs them for a table
  Spark wrote no Parquet file for (an empty partitioned one). dbt's catalog cannot serve:
  dbt-spark reads it from a tree print of the schema that names an array `array`, without
  its element type; `describe` (get_columns_in_relation) gives the full type.
  `dbt run-operation describe_relations --args '{relations: [schema.table, ...]}'` logs one
  line: DESCRIBED_RELATIONS {"schema.table": [[column, type], ...], ...}
#}
{% macro describe_relations(relations) %}
    {%- set described = {} -%}
    {%- for qualified in relations -%}
        {%- set parts = qualified.split('.') -%}
        {%- set relation = adapter.get_relation(database=none, schema=parts[0], identifier=parts[1]) -%}
        {%- if relation is none -%}
            {{ exceptions.raise_compiler_error("no relation " ~ qualified) }}
        {%- endif -%}
        {%- set columns = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do columns.append([column.name, column.dtype]) -%}
        {%- endfor -%}
        {%- do described.update({qualified: columns}) -%}
    {%- endfor -%}
    {{ log('DESCRIBED_RELATIONS ' ~ tojson(described), info=True) }}
{% endmacro %}
