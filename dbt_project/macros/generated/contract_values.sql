{# Generated from pipelines/contract by `union-warehouse contract-sync`; do not edit. #}
{# a dispute case with one of these statuses is closed #}
{% macro closed_case_statuses() %}'调解成功', '调解不成', '撤回', '转仲裁'{% endmacro %}

{# still in mediation #}
{% macro open_case_statuses() %}'受理', '调解中'{% endmacro %}

{# counted by the mediation success rate (DC13, W08): closed, 撤回 left out #}
{% macro decided_case_statuses() %}'调解成功', '调解不成', '转仲裁'{% endmacro %}

{# the successful outcome #}
{% macro success_case_status() %}'调解成功'{% endmacro %}

{# a union organisation in operation #}
{% macro active_org_status() %}'正常'{% endmacro %}

{# a member in the union #}
{% macro active_member_status() %}'在会'{% endmacro %}

{# DC04: a 百人以上 enterprise has at least this many employees #}
{% macro large_enterprise_employees() %}100{% endmacro %}

{# DC08: the subsidy each 职工书屋 receives (yuan) #}
{% macro library_subsidy_yuan() %}8000{% endmacro %}

{# 劳动争议调解仲裁法 Art. 7: workers that make a dispute collective #}
{% macro collective_dispute_workers() %}10{% endmacro %}

{# 劳动争议调解仲裁法 Art. 14: days mediation may take #}
{% macro mediation_limit_days() %}15{% endmacro %}

{# An employer name as a clerk means it: full-width forms folded to ASCII, white
   space dropped, Latin letters upper-cased. #}
{% macro normalise_employer(expr) -%}
{%- set folded -%}
translate({{ expr }}, '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　 ', '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~  ')
{%- endset -%}
{%- set white_space %}'\s'{% endset -%}
upper({{ regexp_replace_all(folded, white_space, "''") }})
{%- endmacro %}
