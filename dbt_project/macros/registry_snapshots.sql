{#
  Every accepted snapshot of a registry (one submission per street and as_of_date: the
  later one when a date was sent twice), renamed and cast like its staging model.
  `flag`: which snapshots, a boolean column of stg_accepted_submissions
  (is_effective_snapshot: every street's snapshot of every date; is_current_snapshot:
  each street's current one).
  `new_only`: restrict to the given submissions (literal sha256 list), so an incremental
  run reads only the new files (Parquet statistics skip the others).
#}
{% macro registry_snapshot_rows(dataset, new_only=none, flag='is_effective_snapshot') -%}
with effective_submissions as (
    select submission_sha256
    from {{ ref('stg_accepted_submissions') }}
    where dataset = '{{ dataset }}'
        and {{ flag }}
),

landed_rows as (
    select *
    from {{ ref('stg_landing__' ~ dataset) }}
    where submission_sha256 in (select submission_sha256 from effective_submissions)
    {%- if new_only is not none %}
        {%- if new_only | length == 0 %}
        and false
        {%- else %}
        and submission_sha256 in (
            {%- for sha in new_only %}'{{ sha }}'{{ ", " if not loop.last }}{% endfor -%}
        )
        {%- endif %}
    {%- endif %}
)

select * from landed_rows
{%- endmacro %}


{#
  Incremental by submission (the registry staging models, int_member_snapshots): a run
  reads and hashes only the snapshot files it has not stored yet, and
  `delete_submissions_not` (a hook) drops the rows of every snapshot that no longer
  qualifies (`flag`). A correction (a later submission for the same street and date) thus
  replaces what it corrects, even when it is empty. (delete+insert on street and date
  would join each new row with every stored row of its snapshot: quadratic.)
  `submissions_to_add` returns the sha256 list to read, or none on a first build or a
  --full-refresh (read them all).
#}
{% macro submissions_to_add(dataset, flag) -%}
    {{ return(adapter.dispatch('submissions_to_add', 'union_warehouse')(dataset, flag)) }}
{%- endmacro %}
{% macro default__submissions_to_add(dataset, flag) -%}
    {%- if is_incremental() and execute -%}
        {%- set new_query -%}
            select submission_sha256
            from {{ ref('stg_accepted_submissions') }}
            where dataset = '{{ dataset }}'
                and {{ flag }}
                and submission_sha256 not in (
                    select distinct submission_sha256 from {{ this }} where submission_sha256 is not null
                )
            order by submission_sha256
        {%- endset -%}
        {{ return(run_query(new_query).columns[0].values() | list) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}


{#
  A registry's staging model: the current snapshot of every street, incremental by
  submission (a run reads only the snapshots that became current since the last; the
  post-hook drops those that stopped being).
#}
{% macro current_registry_snapshot(dataset) -%}
{{ appended_incrementally(post_hook="{{ delete_submissions_not('" ~ dataset ~ "', 'is_current_snapshot') }}") }}
{%- set new_submissions = submissions_to_add(dataset, 'is_current_snapshot') %}

with landed_rows as (
    {{ registry_snapshot_rows(dataset, new_only=new_submissions, flag='is_current_snapshot') }}
)

select
    {{- column_list(staged_column_names(dataset) + landing_audit_column_names()) }}
from landed_rows
{%- endmacro %}


{% macro delete_submissions_not(dataset, flag) -%}
    {{ return(adapter.dispatch('delete_submissions_not', 'union_warehouse')(dataset, flag)) }}
{%- endmacro %}
{% macro default__delete_submissions_not(dataset, flag) -%}
delete from {{ this }}
where submission_sha256 not in (
    select submission_sha256 from {{ ref('stg_accepted_submissions') }}
    where dataset = '{{ dataset }}' and {{ flag }}
)
{%- endmacro %}


{#
  Versions (slowly changing dimension, type 2) of a registry entity from successive
  snapshots of its street: a version starts where the entity is absent from the street's
  previous snapshot or a tracked column differs from it, and ends where it is absent
  from the next snapshot, a tracked column differs from it, or the snapshot is the
  street's current one. valid_from = the first snapshot of the version; valid_to = the
  street's next snapshot after its last one (the first date it no longer held), null
  while current. `carried_columns` are taken from the version's last snapshot.

  Built from hash joins with the previous / next snapshot and an ASOF join of each
  start to its end (no window over all snapshot rows: at city scale, tens of millions).
  `snapshot_rows` must hold one row per street, as_of_date and entity.
  Emits CTEs; the caller selects from `entity_versions`.
#}
{% macro registry_versions(snapshot_rows, dataset, entity_columns, tracked_columns, carried_columns=[]) -%}
{%- set entity = entity_columns | join(', ') -%}
snapshot_calendar as (
    select street_code, as_of_date, snapshot_number, previous_as_of_date, next_as_of_date
    from {{ ref('int_registry_snapshot_calendar') }}
    where dataset = '{{ dataset }}'
),

rows_on_calendar as (
    select
        snapshot_rows.*,
        snapshot_calendar.snapshot_number,
        snapshot_calendar.previous_as_of_date,
        snapshot_calendar.next_as_of_date
    from {{ snapshot_rows }} as snapshot_rows
    inner join snapshot_calendar
        on snapshot_rows.street_code = snapshot_calendar.street_code
        and snapshot_rows.as_of_date = snapshot_calendar.as_of_date
),

version_starts as (
    select
        this_row.*
    from rows_on_calendar as this_row
    left join rows_on_calendar as previous_row
        on previous_row.as_of_date = this_row.previous_as_of_date
        {%- for col in entity_columns %}
        and previous_row.{{ col }} = this_row.{{ col }}
        {%- endfor %}
    where previous_row.as_of_date is null
        {%- for col in tracked_columns %}
        or previous_row.{{ col }} is distinct from this_row.{{ col }}
        {%- endfor %}
),

version_ends as (
    select
        this_row.*,
        case
            when this_row.next_as_of_date is null then null
            when next_row.as_of_date is null then 'missing_from_snapshot'
            else 'changed'
        end as ended_by
    from rows_on_calendar as this_row
    left join rows_on_calendar as next_row
        on next_row.as_of_date = this_row.next_as_of_date
        {%- for col in entity_columns %}
        and next_row.{{ col }} = this_row.{{ col }}
        {%- endfor %}
    where this_row.next_as_of_date is null
        or next_row.as_of_date is null
        {%- for col in tracked_columns %}
        or next_row.{{ col }} is distinct from this_row.{{ col }}
        {%- endfor %}
),

entity_versions as (
    {{ registry_entity_versions(entity_columns, tracked_columns, carried_columns) }}
)
{%- endmacro %}


{# The validity columns of a version from `registry_versions`, as the history marts show them. #}
{% macro version_validity_columns() -%}
    valid_from,
    valid_to,
    last_seen_as_of_date,
    snapshots_seen,
    valid_to is null as is_current,
    ended_by
{%- endmacro %}


{# The versions of `registry_versions`: each start with the first end at or after it
   (an ASOF join on DuckDB; Spark has none: a join and the nearest end kept). #}
{% macro registry_entity_versions(entity_columns, tracked_columns, carried_columns) -%}
    {{ return(adapter.dispatch('registry_entity_versions', 'union_warehouse')(entity_columns, tracked_columns, carried_columns)) }}
{%- endmacro %}
{% macro registry_entity_version_columns(entity_columns, tracked_columns, carried_columns) -%}
select
        {%- for col in entity_columns %}
        version_starts.{{ col }},
        {%- endfor %}
        version_starts.as_of_date as valid_from,
        version_ends.next_as_of_date as valid_to,
        version_ends.as_of_date as last_seen_as_of_date,
        version_ends.snapshot_number - version_starts.snapshot_number + 1 as snapshots_seen,
        version_ends.ended_by,
        {%- for col in tracked_columns %}
        version_starts.{{ col }},
        {%- endfor %}
        {%- for col in carried_columns %}
        version_ends.{{ col }},
        {%- endfor %}
        version_ends.submission_sha256 as last_submission_sha256
{%- endmacro %}
{% macro default__registry_entity_versions(entity_columns, tracked_columns, carried_columns) -%}
{{ registry_entity_version_columns(entity_columns, tracked_columns, carried_columns) }}
    from version_starts
    asof inner join version_ends
        on version_starts.street_code = version_ends.street_code
        {%- for col in entity_columns if col != 'street_code' %}
        and version_starts.{{ col }} = version_ends.{{ col }}
        {%- endfor %}
        and version_starts.snapshot_number <= version_ends.snapshot_number
{%- endmacro %}
{% macro spark__registry_entity_versions(entity_columns, tracked_columns, carried_columns) -%}
{{ registry_entity_version_columns(entity_columns, tracked_columns, carried_columns) }}
    from version_starts
    inner join version_ends
        on version_starts.street_code = version_ends.street_code
        {%- for col in entity_columns if col != 'street_code' %}
        and version_starts.{{ col }} = version_ends.{{ col }}
        {%- endfor %}
        and version_starts.snapshot_number <= version_ends.snapshot_number
    qualify row_number() over (
        partition by version_starts.street_code
            {%- for col in entity_columns if col != 'street_code' %}, version_starts.{{ col }}{% endfor %},
            version_starts.snapshot_number
        order by version_ends.snapshot_number
    ) = 1
{%- endmacro %}


{# Spark (see macros/incremental_rebuild_scope.sql): by whole streets. The streets whose
   qualifying submissions differ from the stored ones (a submission to add, or a stored
   one no longer qualifying); their partitions are dropped before the insert and every
   qualifying submission of theirs is read. #}
{% macro changed_submission_streets(dataset, flag) -%}
    {%- set streets -%}
        select street_code from (
            (select street_code, submission_sha256 from {{ ref('stg_accepted_submissions') }}
             where dataset = '{{ dataset }}' and {{ flag }})
            except
            (select distinct street_code, submission_sha256 from {{ this }})
        ) as to_add
        union
        select street_code from (
            (select distinct street_code, submission_sha256 from {{ this }})
            except
            (select street_code, submission_sha256 from {{ ref('stg_accepted_submissions') }}
             where dataset = '{{ dataset }}' and {{ flag }})
        ) as to_drop
    {%- endset -%}
    {{ return(street_codes_of(streets)) }}
{%- endmacro %}

{% macro spark__submissions_to_add(dataset, flag) -%}
    {%- if is_incremental() and execute -%}
        {%- set new_query -%}
            select submission_sha256
            from {{ ref('stg_accepted_submissions') }}
            where dataset = '{{ dataset }}'
                and {{ flag }}
                and {{ street_code_in('street_code', changed_submission_streets(dataset, flag)) }}
            order by submission_sha256
        {%- endset -%}
        {{ return(run_query(new_query).columns[0].values() | list) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__delete_submissions_not(dataset, flag) -%}
{%- if is_incremental() -%}
    {{ drop_street_partitions(changed_submission_streets(dataset, flag)) }}
{%- endif -%}
{%- endmacro %}
