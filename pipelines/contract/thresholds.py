"""Numbers the work plan and labour law fix, declared once. The dbt models read them
through generated macros (``macros/generated/contract_values.sql``), the generator and
the docs through this module.

Each is a fact of the plan year or of the statute, not a tuning knob: a warning rule's
thresholds (``pipelines/alerts/warning_rules.yaml``) may start from one of them, and a
test keeps the default rule file in step.
"""

from __future__ import annotations

# DC04 counts 百人以上典型示范企业: a model enterprise with at least this many employees.
LARGE_ENTERPRISE_EMPLOYEES = 100
# DC08: each 职工书屋 receives this subsidy (yuan); a facility counts when it was paid.
LIBRARY_SUBSIDY_YUAN = 8000
# 劳动争议调解仲裁法 Art. 7: a dispute of this many workers or more with a common claim is
# a collective dispute.
COLLECTIVE_DISPUTE_WORKERS = 10
# 劳动争议调解仲裁法 Art. 14: mediation not concluded within this many days of receipt
# counts as failed (the case is overdue).
MEDIATION_LIMIT_DAYS = 15
