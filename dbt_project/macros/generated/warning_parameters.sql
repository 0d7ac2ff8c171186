{# Generated from pipelines/alerts/warning_rules.yaml by `union-warehouse contract-sync`; do not edit. #}
{# The default rule file's parameters: [rule code, name, value]. The pipeline passes
   the rule file in use as var('warning_parameters') instead. #}
{% macro default_warning_parameters() %}
{{ return([
    ["W01", "recent_days", "30"],
    ["W02", "dispute_type", "工资报酬"],
    ["W02", "ticket_category", "欠薪"],
    ["W02", "window_days", "30"],
    ["W03", "baseline_days", "180"],
    ["W03", "window_days", "30"],
    ["W04", "expiring_within_days", "30"],
    ["W06", "statuses", "迁出"],
    ["W06", "statuses", "注销"],
    ["W06", "statuses", "合并"],
    ["W07", "employee_fall_min", "20"],
    ["W07", "employee_fall_share", "0.1"],
    ["W07", "employee_share_min_base", "10"],
    ["W07", "member_fall_min", "20"],
    ["W07", "member_fall_share", "0.3"],
    ["W08", "min_closed_cases", "10"],
    ["W09", "overdue_days", "15"],
]) }}
{% endmacro %}
