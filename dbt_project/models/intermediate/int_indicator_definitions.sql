{#
  What each indicator is, read once from the targets seed for every model that needs it:
  its name and unit from the latest plan year that lists it (a year without a plan still
  gets its indicators), and whether it is a rate (unit 'ratio': a numerator over a
  denominator).
#}
select
    indicator_code,
    indicator_name,
    unit,
    unit = 'ratio' as is_rate
from {{ ref('indicator_targets') }}
qualify row_number() over (partition by indicator_code order by year desc) = 1
