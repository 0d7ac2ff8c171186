-- Where a warning belongs: each street by its code, and the district (street_code null)
-- for what is not one known street's. The union model joins this once.

with streets as (
    select * from {{ ref('streets') }}
)

select code as street_code, code as area_code, name as area_name
from streets

union all

select distinct null as street_code, district_code as area_code, district_name as area_name
from streets
