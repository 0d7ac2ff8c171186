{#
  The combination of columns is unique in the model (a composite key), e.g. street_code
  with a record id: a street's ids are its own (submissions.md rule 6).
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as row_count
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
