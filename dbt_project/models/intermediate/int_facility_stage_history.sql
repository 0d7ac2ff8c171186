-- Every accepted version of every facility record (not only the latest): a facility's
-- record moves through 建设 -> 抽查 -> 验收, and the date it reached 验收 must survive
-- later corrections of the record.

with accepted_submissions as (
    select submission_sha256
    from {{ ref('stg_accepted_submissions') }}
    where dataset = 'facilities'
),

facility_versions as (
    select *
    from {{ ref('stg_landing__facilities') }}
    where submission_sha256 in (select submission_sha256 from accepted_submissions)
)

select
    {{- column_list(staged_column_names('facilities') + landing_audit_column_names()) }}
from facility_versions
