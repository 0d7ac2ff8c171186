{{ config(alias='row_reconciliation') }}
-- Every loaded row accounted for, from the file to the models, per dataset and street:
-- the ledger's loaded rows equal the landed rows; the landed rows of the submissions
-- the warehouse includes are all in the models (an event record once per version it
-- had, a registry row in its snapshot, or in a snapshot a later file of the same date
-- replaced); the rest belong to submissions left out (held back or not yet checked).
-- `reconciles` is false where a row went missing or appeared from nowhere.

{%- set events = ['collective_contracts', 'dispute_cases', 'hotline_tickets', 'legal_services',
                  'training_events', 'education_grants', 'facilities', 'hardship_cases'] %}
{%- set registries = {'union_orgs': 'int_org_snapshots', 'members': 'int_member_snapshots',
                      'street_staff': 'int_staff_snapshots'} %}

with manifest as (
    select * from {{ ref('indicator_manifest') }}
),

submissions as (
    select
        manifest.dataset,
        manifest.street_code,
        manifest.submission_sha256,
        manifest.rows_loaded,
        manifest.is_included,
        coalesce(accepted.is_effective_snapshot or not accepted.is_registry, false) as is_modelled
    from manifest
    left join {{ ref('stg_accepted_submissions') }} as accepted
        on manifest.submission_sha256 = accepted.submission_sha256
),

landed as (
    {%- for dataset in events + (registries.keys() | list) %}
    select '{{ dataset }}' as dataset, submission_sha256, count(*) as landed_rows
    from {{ ref('stg_landing__' ~ dataset) }}
    group by all
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

modelled as (
    {%- for dataset in events %}
    select '{{ dataset }}' as dataset, street_code, sum(version_count) as modelled_rows
    from {{ ref('stg_' ~ dataset) }}
    group by all
    union all
    {%- endfor %}
    {%- for dataset, model in registries.items() %}
    select '{{ dataset }}' as dataset, street_code, count(*) as modelled_rows
    from {{ ref(model) }}
    group by all
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

per_submission as (
    select
        submissions.*,
        coalesce(landed.landed_rows, 0) as landed_rows
    from submissions
    left join landed
        on submissions.dataset = landed.dataset
        and submissions.submission_sha256 = landed.submission_sha256
),

per_street as (
    select
        dataset,
        street_code,
        count(*) as submissions,
        sum(rows_loaded) as ledger_rows_loaded,
        sum(landed_rows) as landed_rows,
        sum(landed_rows) filter (where is_included and is_modelled) as rows_expected_in_models,
        sum(landed_rows) filter (where is_included and not is_modelled) as rows_in_replaced_snapshots,
        sum(landed_rows) filter (where not is_included) as rows_left_out
    from per_submission
    group by all
)

select
    per_street.dataset,
    per_street.street_code,
    per_street.submissions,
    per_street.ledger_rows_loaded,
    per_street.landed_rows,
    coalesce(per_street.rows_expected_in_models, 0) as rows_expected_in_models,
    coalesce(modelled.modelled_rows, 0) as modelled_rows,
    coalesce(per_street.rows_in_replaced_snapshots, 0) as rows_in_replaced_snapshots,
    coalesce(per_street.rows_left_out, 0) as rows_left_out,
    per_street.ledger_rows_loaded = per_street.landed_rows
        and coalesce(per_street.rows_expected_in_models, 0) = coalesce(modelled.modelled_rows, 0) as reconciles
from per_street
left join modelled
    on per_street.dataset = modelled.dataset
    and per_street.street_code = modelled.street_code
