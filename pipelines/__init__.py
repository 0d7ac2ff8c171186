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

# With the `spark` extra installed, Great Expectations imports pyspark.sql.connect, which
# takes a main module without __file__ or __spec__ for its own doctest runner and calls
# sys.exit(0) at import (pyspark/sql/connect/utils.py). Dagster's run workers and
# pytest-xdist's workers run such a main module (`python -c`): the quality step of a run
# the daemon launched died with SystemExit. The main module is given a name first.
_main = __import__("sys").modules.get("__main__")
if _main is not None and getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<union-warehouse>"

# The same import warns that pyspark "does not yet fully support pandas >= 3.0.0": true
# of pyspark's pandas API, which nothing here uses (Great Expectations only probes for
# pyspark; the Spark warehouse runs in dbt's own process). An operator reading the
# quality step's output cannot act on it, so it is not shown.
__import__("warnings").filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
