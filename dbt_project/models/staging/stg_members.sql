-- Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit.
-- 会员信息 (members, registry, key member_id).
-- The current snapshot of every street: rows of the accepted submission with the latest
-- as_of_date on or before var('as_of_date') (same date: the later submission),
-- incremental by submission (macros/registry_snapshots.sql).
{{ current_registry_snapshot('members') }}
