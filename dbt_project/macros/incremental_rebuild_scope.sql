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
{%- if is_incremental() -%}
create or replace temp table {{ this.identifier }}__rebuild_scope as
select distinct member_key from ({{ scope_sql }}) as scope
{%- endif -%}
{%- endmacro %}


{% macro delete_rebuild_scope() -%}
{%- if is_incremental() -%}
delete from {{ this }} where member_key in (select member_key from {{ rebuild_scope_relation() }})
{%- endif -%}
{%- endmacro %}


{# In a per-person model: `and <column> in (the persons to recompute)` in an incremental
   run, nothing otherwise. #}
{% macro in_rebuild_scope(column) -%}
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
