{#
  Every accepted member snapshot, hashed: one row per street x as_of_date x member.
  Incremental (append): a run reads and hashes only the snapshot files it has not
  stored yet (listed as literal sha256s so the Parquet scan skips every other file).
  The post-hook then drops the rows of every snapshot that is no longer a street's
  effective one for its date: a correction (a later submission for the same street and
  as_of_date) thus replaces what it corrects, even when it is empty. (delete+insert on
  street and date would join each new row with every stored row of its snapshot:
  quadratic.) On a fresh database it builds from scratch.
  Changing UNION_PII_KEY changes every hash: rebuild with --full-refresh.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook="delete from {{ this }} where submission_sha256 not in (select submission_sha256 from {{ ref('stg_accepted_submissions') }} where dataset = 'members' and is_effective_snapshot)"
) }}

{%- set new_submissions = none -%}
{%- if is_incremental() and execute -%}
    {%- set new_query -%}
        select submission_sha256
        from {{ ref('stg_accepted_submissions') }}
        where dataset = 'members'
            and is_effective_snapshot
            and submission_sha256 not in (
                select distinct submission_sha256 from {{ this }} where submission_sha256 is not null
            )
        order by submission_sha256
    {%- endset -%}
    {%- set new_submissions = run_query(new_query).columns[0].values() | list -%}
{%- endif %}

with snapshot_rows as (
    {{ registry_snapshot_rows('members', new_only=new_submissions) }}
)

select
    street_code,
    as_of_date,
    member_id,
    id_number_hash,
    id_number_masked,
    birth_year,
    gender,
    birth_date,
    org_id,
    join_date,
    status,
    worker_type,
    jingka_issued,
    model_worker,
    -- a person listed twice in one snapshot (say once 在会, once 退会) counts once in the
    -- marts: this row, the 在会 one first. Computed here, over the new snapshots only.
    row_number() over (
        partition by street_code, as_of_date, id_number_hash
        order by (status = '在会') desc, line_number desc
    ) = 1 as is_person_primary,
    submission_sha256,
    ingest_seq,
    line_number
from snapshot_rows
