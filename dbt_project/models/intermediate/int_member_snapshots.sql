{#
  Every accepted member snapshot, hashed: one row per street x as_of_date x member.
  Incremental by submission (macros/registry_snapshots.sql): a run hashes only the
  snapshot files it has not stored yet, and the post-hook drops the rows of every
  snapshot that is no longer a street's effective one for its date.
  Changing UNION_PII_KEY changes every hash: the pipeline notices (its build record keeps
  a fingerprint of the key) and rebuilds with --full-refresh; a hand-run dbt must be told.
#}
{{ appended_incrementally(post_hook="{{ delete_submissions_not('members', 'is_effective_snapshot') }}") }}

{%- set new_submissions = submissions_to_add('members', 'is_effective_snapshot') %}

with snapshot_rows as (
    {{ registry_snapshot_rows('members', new_only=new_submissions) }}
)

select
    {{- column_list(staged_column_names('members')) }},
    -- a person listed twice in one snapshot (say once 在会, once 退会) counts once in the
    -- marts: this row, the 在会 one first. Computed here, over the new snapshots only.
    row_number() over (
        partition by street_code, as_of_date, id_number_hash
        order by (status = {{ active_member_status() }}) desc, line_number desc
    ) = 1 as is_person_primary,
    submission_sha256,
    ingest_seq,
    line_number
from snapshot_rows
