{#
  Every accepted version of each event record of `dataset` (by street and `key`), ranked
  newest first (highest ingest_seq, then highest line number): version_rank 1 is the
  record's current state; version_count and first_ingest_seq keep its history visible.
  The generated event staging models select version_rank = 1.
#}
{% macro ranked_event_versions(dataset, key) -%}
    select
        landed_rows.*,
        row_number() over (
            partition by landed_rows.street_code, landed_rows.{{ key }}
            order by landed_rows.ingest_seq desc, landed_rows.line_number desc
        ) as version_rank,
        count(*) over (partition by landed_rows.street_code, landed_rows.{{ key }}) as version_count,
        min(landed_rows.ingest_seq) over (
            partition by landed_rows.street_code, landed_rows.{{ key }}
        ) as first_ingest_seq
    from {{ ref('stg_landing__' ~ dataset) }} as landed_rows
    where landed_rows.submission_sha256 in (
        select submission_sha256 from {{ ref('stg_accepted_submissions') }}
        where dataset = '{{ dataset }}'
    )
{%- endmacro %}


{#
  An event dataset's staging model: the current version of each record (version_rank 1)
  with its contract columns, version_count, first_ingest_seq and the audit columns.
#}
{% macro latest_event_versions(dataset) -%}
with ranked_versions as (
    {{ ranked_event_versions(dataset, contract_dataset(dataset).key) }}
)

select
    {{- column_list(staged_column_names(dataset) + ['version_count', 'first_ingest_seq']
        + landing_audit_column_names()) }}
from ranked_versions
where version_rank = 1
{%- endmacro %}


{# The audit columns every event fact carries from its staging model (of `relation`
   when one is given): how many versions, when first and last sent. #}
{% macro event_audit_columns(relation=none) -%}
    {{- column_list(['version_count', 'first_ingest_seq', 'submission_sha256', 'ingest_seq'], relation) }}
{%- endmacro %}
