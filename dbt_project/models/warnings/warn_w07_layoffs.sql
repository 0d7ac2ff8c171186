-- W07 裁员/会员骤减: orgs 正常 in both of their street's latest two snapshots whose
-- employees fell by `employee_fall_min` or more, or by `employee_fall_share` or more of
-- at least `employee_share_min_base` (劳动合同法 Art. 41); or whose active members (in
-- the street's latest two member snapshots) fell by `member_fall_share` or more and by
-- at least `member_fall_min` people. Metrics: employee_fall, employee_fall_share,
-- member_fall, member_fall_share.

with params as (
    select
        {{ warning_param('W07', 'employee_fall_min', 'integer') }} as employee_fall_min,
        {{ warning_param('W07', 'employee_fall_share', 'double') }} as employee_fall_share,
        {{ warning_param('W07', 'employee_share_min_base', 'integer') }} as employee_share_min_base,
        {{ warning_param('W07', 'member_fall_share', 'double') }} as member_fall_share,
        {{ warning_param('W07', 'member_fall_min', 'integer') }} as member_fall_min
),

orgs as (
    select * from {{ ref('warning_org_pairs') }}
    where status_before = {{ active_org_status() }} and status_after = {{ active_org_status() }}
),

member_counts as (
    select * from {{ ref('fct_membership_counts') }}
),

member_pairs as (
    {{ latest_two_snapshots("member_counts") }}
),

member_falls as (
    select
        member_counts.street_code,
        member_counts.org_id,
        member_pairs.previous_snapshot,
        member_pairs.snapshot,
        sum(case when member_counts.as_of_date = member_pairs.previous_snapshot
                 then member_counts.active_members end) as members_before,
        coalesce(sum(case when member_counts.as_of_date = member_pairs.snapshot
                          then member_counts.active_members end), 0) as members_after
    from member_counts
    inner join member_pairs
        on member_pairs.street_code = member_counts.street_code
        and member_counts.as_of_date in (member_pairs.previous_snapshot, member_pairs.snapshot)
    group by 1, 2, 3, 4
),

falls as (
    select
        orgs.*,
        coalesce(orgs.employees_before, 0) as e0,
        coalesce(orgs.employees_after, 0) as e1,
        greatest(coalesce(orgs.employees_before, 0) - coalesce(orgs.employees_after, 0), 0) as employee_fall,
        member_falls.previous_snapshot as members_previous_snapshot,
        member_falls.snapshot as members_snapshot,
        member_falls.members_before,
        member_falls.members_after,
        coalesce(member_falls.members_before - member_falls.members_after, 0) as member_fall,
        member_falls.org_id is not null as has_member_fall
    from orgs
    left join member_falls
        on member_falls.street_code = orgs.street_code
        and member_falls.org_id = orgs.org_id
        and member_falls.members_before > member_falls.members_after
),

shares as (
    select
        falls.*,
        case when e0 > 0 then employee_fall / e0 else 0.0 end as employee_fall_share,
        case when has_member_fall then member_fall / members_before else 0.0 end as member_fall_share
    from falls
),

judged as (
    select
        shares.*,
        shares.employee_fall > 0 and (
            shares.employee_fall >= params.employee_fall_min
            or (shares.e0 >= params.employee_share_min_base
                and shares.employee_fall_share >= params.employee_fall_share)
        ) as by_employees,
        shares.member_fall >= params.member_fall_min
            and shares.member_fall_share >= params.member_fall_share as by_members
    from shares
    cross join params
)

select
    'W07' as rule_code,
    street_code,
    'org:' || street_code || ':' || org_id as entity_key,
    cast(previous_snapshot as {{ text_type() }}) || '/' || cast(snapshot as {{ text_type() }}) as alert_window,
    {{ json_object_text([
        ('employee_fall', 'employee_fall'),
        ('employee_fall_share', 'employee_fall_share'),
        ('member_fall', 'member_fall'),
        ('member_fall_share', 'member_fall_share'),
    ]) }} as metrics,
    {%- set org_pairs = org_pair_evidence_pairs() + [
        ('employee_fall', 'employee_fall'),
        ('employee_fall_share', round_half_even('employee_fall_share', 4)),
    ] %}
    case when has_member_fall
        then {{ json_object_text(org_pairs + [
            ('members_previous_snapshot', 'members_previous_snapshot'),
            ('members_snapshot', 'members_snapshot'),
            ('active_members_before', 'members_before'),
            ('active_members_after', 'members_after'),
            ('member_fall', 'member_fall'),
            ('member_fall_share', round_half_even('member_fall_share', 4)),
        ]) }}
        else {{ json_object_text(org_pairs) }}
    end as evidence,
    coalesce(employer_name, '') || '（工会' || org_id || '）' || cast(previous_snapshot as {{ text_type() }}) || '至'
        || cast(snapshot as {{ text_type() }}) || '间'
        || concat_ws('，',
            case when by_employees
                then '职工由' || e0 || '人减至' || e1 || '人（减少' || employee_fall || '人，'
                    || {{ format_fixed('employee_fall_share * 100', 1) }} || '%）' end,
            case when by_members and has_member_fall
                then '在会会员由' || members_before || '人减至' || members_after || '人（减少'
                    || member_fall || '人，' || {{ format_fixed('member_fall_share * 100', 1) }} || '%）' end
        ) as message_body
from judged
where by_employees or by_members
