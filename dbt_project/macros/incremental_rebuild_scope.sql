{#
  What an incremental member mart rebuilds when a street sends or corrects a snapshot.

  Every row of these marts carries the street_timeline_key of its street (from
  int_registry_snapshot_calendar): a fingerprint of all the street's snapshot dates and
  the submissions behind them. A street whose key differs from the stored one (a new
  snapshot, a correction, a snapshot entering or leaving the as_of_date window), or is
  gone, is a changed street.

  Two kinds of model:

  - per street (dim_member_history, fct_membership_counts): a row depends only on its
    own street's snapshots. The pre-hook `delete_changed_streets` drops the rows of
    changed streets; the model then builds `streets_to_build`: the streets with no
    stored rows for their current key.
  - per person (fct_member_changes, dim_member): a row may depend on the same person's
    rows in another street (a transfer between streets; a person listed by two).
    The pre-hooks `create_rebuild_scope` (the persons to recompute, worked out from the
    table as it stands, into a temporary table of this connection) and
    `delete_rebuild_scope` (their rows) run first; the model recomputes every row of
    exactly those persons from all their snapshots in every street.

  On a first build or a --full-refresh, none of this applies: everything is built.
#}

{% macro street_timelines(dataset) -%}
    select distinct street_code, street_timeline_key
    from {{ ref('int_registry_snapshot_calendar') }}
    where dataset = '{{ dataset }}'
{%- endmacro %}


{% macro delete_changed_streets(dataset) -%}
    {{ return(adapter.dispatch('delete_changed_streets', 'union_warehouse')(dataset)) }}
{%- endmacro %}
{% macro default__delete_changed_streets(dataset) -%}
{%- if is_incremental() -%}
delete from {{ this }} as built
where not exists (
    select 1
    from ({{ street_timelines(dataset) }}) as timelines
    where timelines.street_code = built.street_code
        and timelines.street_timeline_key = built.street_timeline_key
)
{%- endif -%}
{%- endmacro %}


{# The configuration of a per-street incremental mart: appended, changed streets deleted
   first (call it at the top of the model, then build `streets_to_build`). #}
{% macro incremental_by_street(dataset) -%}
{{ appended_incrementally(pre_hook="{{ delete_changed_streets('" ~ dataset ~ "') }}") }}
{%- endmacro %}


{# How every incremental model here is configured: rows are appended after the hooks
   deleted what must be rebuilt (a street, a person, a snapshot); a change of columns
   fails the run rather than leave old rows beside new (a full refresh rebuilds). #}
{% macro appended_incrementally(pre_hook=[], post_hook=[]) -%}
    {{ return(adapter.dispatch('appended_incrementally', 'union_warehouse')(pre_hook, post_hook)) }}
{%- endmacro %}
{% macro default__appended_incrementally(pre_hook, post_hook) -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=pre_hook,
    post_hook=post_hook
) }}
{%- endmacro %}


{% macro streets_to_build(dataset) -%}
    select timelines.street_code, timelines.street_timeline_key
    from ({{ street_timelines(dataset) }}) as timelines
    {%- if is_incremental() %}
    where not exists (
        select 1
        from {{ this }} as built
        where built.street_code = timelines.street_code
            and built.street_timeline_key = timelines.street_timeline_key
    )
    {%- endif %}
{%- endmacro %}


{# Streets whose timeline differs from the one the stored rows were built from (a new
   or changed key, or a street whose stored key no longer exists). #}
{% macro changed_streets(dataset) -%}
    select street_code from (
        ({{ street_timelines(dataset) }})
        except
        (select distinct street_code, street_timeline_key from {{ this }})
    )
    union
    select street_code from (
        (select distinct street_code, street_timeline_key from {{ this }})
        except
        ({{ street_timelines(dataset) }})
    )
{%- endmacro %}


{% macro rebuild_scope_relation() -%}
    temp.main.{{ this.identifier }}__rebuild_scope
{%- endmacro %}


{# `scope_sql`: a query of member_key (run before the delete, so it may read the stored
   rows). #}
{% macro create_rebuild_scope(scope_sql) -%}
    {{ return(adapter.dispatch('create_rebuild_scope', 'union_warehouse')(scope_sql)) }}
{%- endmacro %}
{% macro default__create_rebuild_scope(scope_sql) -%}
{%- if is_incremental() -%}
create or replace temp table {{ this.identifier }}__rebuild_scope as
select distinct member_key from ({{ scope_sql }}) as scope
{%- endif -%}
{%- endmacro %}


{% macro delete_rebuild_scope() -%}
    {{ return(adapter.dispatch('delete_rebuild_scope', 'union_warehouse')()) }}
{%- endmacro %}
{% macro default__delete_rebuild_scope() -%}
{%- if is_incremental() -%}
delete from {{ this }} where member_key in (select member_key from {{ rebuild_scope_relation() }})
{%- endif -%}
{%- endmacro %}


{# In a per-person model: `and <column> in (the persons to recompute)` in an incremental
   run, nothing otherwise. #}
{% macro in_rebuild_scope(column, scope_sql=none) -%}
    {{ return(adapter.dispatch('in_rebuild_scope', 'union_warehouse')(column, scope_sql)) }}
{%- endmacro %}
{% macro default__in_rebuild_scope(column, scope_sql) -%}
{%- if is_incremental() %}
    and {{ column }} in (select member_key from {{ rebuild_scope_relation() }})
{%- endif -%}
{%- endmacro %}


{# fct_member_changes: everyone listed by a changed street now, and everyone whose stored
   events involve a changed street (as the event's street, origin or destination). #}
{% macro member_changes_rebuild_scope() -%}
    with changed as (
        {{ changed_streets('members') }}
    )
    select id_number_hash as member_key
    from {{ ref('int_member_snapshots') }}
    where street_code in (select street_code from changed)
    union
    select member_key
    from {{ this }}
    where street_code in (select street_code from changed)
        or from_street_code in (select street_code from changed)
        or to_street_code in (select street_code from changed)
{%- endmacro %}


{# dim_member: everyone active in a changed street's current snapshot now, everyone
   stored under a changed street, and everyone listed by more than one street (their
   street count may change with another street's list). #}
{% macro current_members_rebuild_scope() -%}
    with changed as (
        {{ changed_streets('members') }}
    )
    select member_snapshots.id_number_hash as member_key
    from {{ ref('int_member_snapshots') }} as member_snapshots
    inner join {{ ref('int_registry_snapshot_calendar') }} as calendar
        on calendar.dataset = 'members'
        and calendar.is_current_snapshot
        and member_snapshots.street_code = calendar.street_code
        and member_snapshots.as_of_date = calendar.as_of_date
    where member_snapshots.status = '在会'
        and member_snapshots.street_code in (select street_code from changed)
    union
    select member_key
    from {{ this }}
    where street_code in (select street_code from changed)
        or active_street_count > 1
{%- endmacro %}


{#
  On Spark. Its Parquet tables have no DELETE: every incremental model is partitioned by
  street_code and written with insert_overwrite (dynamic: only the partitions the run
  writes are replaced). What DuckDB deletes, Spark rebuilds by whole streets:

  - the hooks that delete (before the insert on DuckDB, or after it for the registries)
    all run before the insert, and drop the partitions of the streets to rebuild
    (`alter table ... drop partition`: a street that now has no rows at all must not keep
    its old ones, which an overwrite of the partitions written would leave);
  - per street: the streets whose timeline key changed (the same test as the delete);
  - per submission: the streets whose set of qualifying submissions differs from the
    stored one; the model reads every qualifying submission of those streets;
  - per person: the streets holding, stored or now, any person of the rebuild scope; the
    model recomputes every person listed in those streets (from all their rows in every
    street) and writes the rows of those streets only. A person outside the scope gets
    the rows they had, so rewriting their rows of those streets changes nothing.

  The streets are worked out with run_query before the model's statement runs (the model
  is compiled before its hooks run, and the hooks see the table as the model's
  compilation did).
#}

{% macro spark__appended_incrementally(pre_hook, post_hook) -%}
{%- set hooks = [] -%}
{%- for hook in [pre_hook, post_hook] -%}
    {%- if hook is string -%}{%- do hooks.append(hook) -%}{%- else -%}{%- do hooks.extend(hook) -%}{%- endif -%}
{%- endfor -%}
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    file_format='parquet',
    partition_by=['street_code'],
    on_schema_change='fail',
    pre_hook=hooks,
    post_hook=[]
) }}
{%- endmacro %}


{# the street codes a query (of street_code) returns, at run time #}
{% macro street_codes_of(streets_sql) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set codes = run_query("select distinct street_code from (" ~ streets_sql ~ ") as streets where street_code is not null order by 1").columns[0].values() | list -%}
    {{ return(codes) }}
{%- endmacro %}


{# `street_code in (...)`, false when there is none #}
{% macro street_code_in(column, codes) -%}
    {%- if codes | length == 0 -%}
    false
    {%- else -%}
    {{ column }} in ({% for code in codes %}'{{ code }}'{{ ", " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}


{# drop this table's partitions of the given streets (nothing when there is none) #}
{% macro drop_street_partitions(codes) -%}
    {%- if codes | length > 0 -%}
    alter table {{ this }} drop if exists
        {%- for code in codes %} partition (street_code = '{{ code }}'){{ "," if not loop.last }}{% endfor %}
    {%- endif -%}
{%- endmacro %}


{% macro spark__delete_changed_streets(dataset) -%}
{%- if is_incremental() -%}
    {%- set changed -%}
        select built.street_code
        from {{ this }} as built
        where not exists (
            select 1
            from ({{ street_timelines(dataset) }}) as timelines
            where timelines.street_code = built.street_code
                and timelines.street_timeline_key = built.street_timeline_key
        )
    {%- endset -%}
    {{ drop_street_partitions(street_codes_of(changed)) }}
{%- endif -%}
{%- endmacro %}


{# per person: the streets holding (stored or now) anyone of the rebuild scope #}
{% macro rebuild_scope_streets(scope_sql) -%}
    {%- set streets -%}
        select built.street_code
        from {{ this }} as built
        where built.member_key in (select member_key from ({{ scope_sql }}) as scope)
        union
        select member_snapshots.street_code
        from {{ ref('int_member_snapshots') }} as member_snapshots
        where member_snapshots.id_number_hash in (select member_key from ({{ scope_sql }}) as scope)
    {%- endset -%}
    {{ return(street_codes_of(streets)) }}
{%- endmacro %}


{% macro spark__create_rebuild_scope(scope_sql) -%}
{%- if is_incremental() -%}
    {{ drop_street_partitions(rebuild_scope_streets(scope_sql)) }}
{%- endif -%}
{%- endmacro %}


{# the partitions were dropped by create_rebuild_scope #}
{% macro spark__delete_rebuild_scope() -%}
{%- endmacro %}


{# everyone listed in a street to rebuild #}
{% macro spark__in_rebuild_scope(column, scope_sql) -%}
{%- if is_incremental() %}
    and {{ column }} in (
        select member_snapshots.id_number_hash
        from {{ ref('int_member_snapshots') }} as member_snapshots
        where {{ street_code_in('member_snapshots.street_code', rebuild_scope_streets(scope_sql)) }}
    )
{%- endif -%}
{%- endmacro %}


{# In a per-person model's last select: only the rows of the streets to rebuild (Spark
   overwrites exactly the partitions written); nothing on DuckDB. #}
{% macro in_rebuild_streets(column, scope_sql) -%}
    {{ return(adapter.dispatch('in_rebuild_streets', 'union_warehouse')(column, scope_sql)) }}
{%- endmacro %}
{% macro default__in_rebuild_streets(column, scope_sql) -%}
{%- endmacro %}
{% macro spark__in_rebuild_streets(column, scope_sql) -%}
{%- if is_incremental() %}
where {{ street_code_in(column, rebuild_scope_streets(scope_sql)) }}
{%- endif -%}
{%- endmacro %}
