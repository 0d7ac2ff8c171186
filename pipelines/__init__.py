"""Union warehouse: the Dongcheng District Federation of Trade Unions' data pipeline.

Importing the package turns every telemetry channel off before Dagster, dbt or Great
Expectations are imported: there is no internet here, and members' data must never
phone home.
"""

import os

for _var, _value in {
    "DO_NOT_TRACK": "1",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_var, _value)
