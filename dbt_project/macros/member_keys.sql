{#
  The person behind each member number that `records` (a CTE with street_code and
  member_id) names: the keyed ID hash from the street's latest snapshot listing the
  number, as member_key. Only those numbers are read: a semi join, not a pass over every
  snapshot row (tens of millions at city scale).
#}
{% macro member_keys_of(records) -%}
    select member_snapshots.street_code, member_snapshots.member_id,
        {{ arg_max('member_snapshots.id_number_hash', 'member_snapshots.as_of_date') }} as member_key
    from {{ ref('int_member_snapshots') }} as member_snapshots
    {{ semi_join() }} (select distinct street_code, member_id from {{ records }}) as wanted
        on member_snapshots.street_code = wanted.street_code
        and member_snapshots.member_id = wanted.member_id
    group by member_snapshots.street_code, member_snapshots.member_id
{%- endmacro %}


{# `records` (a CTE with street_code and member_id) left-joined to the person behind each
   member number: selects may then read member_numbers.member_key. #}
{% macro left_join_member_keys(records) -%}
left join ({{ member_keys_of(records) }}) as member_numbers
    on {{ records }}.street_code = member_numbers.street_code
    and {{ records }}.member_id = member_numbers.member_id
{%- endmacro %}
