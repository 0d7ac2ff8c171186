"""dbt-duckdb plugin: hand the ID-number hashing key to DuckDB as a session variable.

Declared in ``dbt_project/profiles.yml`` (``plugins: [{module: pipelines.warehouse.dbt_pii}]``).
Every connection and every cursor dbt opens gets ``union_pii_key`` set through a bound
parameter, so the key never appears in SQL text, compiled files, ``run_results.json`` or
the dbt logs; the ``pii_hash`` macro reads it with ``getvariable('union_pii_key')``.

The key comes from ``UNION_PII_KEY`` (configuration, never the repository); without it the
demo key is used, with a warning, as everywhere else in the pipeline.
"""

from __future__ import annotations

import logging
import os

from dbt.adapters.duckdb.plugins import BasePlugin

from pipelines.config import DEMO_PII_KEY

log = logging.getLogger(__name__)

VARIABLE = "union_pii_key"


_warned = False


def pii_key() -> str:
    global _warned
    key = os.environ.get("UNION_PII_KEY")
    if not key:
        if not _warned:
            log.warning("UNION_PII_KEY is not set: hashing ID numbers with the demo key (not for production)")
            _warned = True
        return DEMO_PII_KEY
    return key


def set_key(conn) -> None:  # type: ignore[no-untyped-def]
    conn.execute(f"set variable {VARIABLE} = ?", [pii_key()])


class Plugin(BasePlugin):
    """DuckDB variables live in one client context: set the key on the parent
    connection and again on every cursor dbt-duckdb derives from it."""

    def configure_connection(self, conn) -> None:  # type: ignore[no-untyped-def]
        set_key(conn)

    def configure_cursor(self, cursor) -> None:  # type: ignore[no-untyped-def]
        set_key(cursor)
