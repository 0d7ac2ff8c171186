"""The checks that must pass before anything is published (each a pure function of the
working warehouse, and of the history for determinism). A failing check names what is
wrong; the publish step does not run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from pipelines.publish.history import HistoryStore

INDICATORS = "indicators.indicator_values"
TOLERANCE = 1e-9
MAX_LISTED = 20


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    summary: str
    failures: list[dict[str, Any]] = field(default_factory=list)


def _named(rows: list[tuple[Any, ...]], *names: str) -> list[dict[str, Any]]:
    """Each failing row as a dict, its columns named in order."""
    return [dict(zip(names, r, strict=True)) for r in rows]


def _outcome(name: str, failures: list[dict[str, Any]], passed: str, failed: str) -> CheckOutcome:
    """Passed when nothing failed; else ``failed`` with the count, the first failures listed."""
    return CheckOutcome(name, not failures, failed.format(len(failures)) if failures else passed,
                        failures[:MAX_LISTED])


def district_equals_street_sum(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    rows = con.sql(f"""
        with streets as (
            select indicator_code, period_type, period_start,
                sum(numerator) as numerator, sum(denominator) as denominator
            from {INDICATORS} where area_level = 'street' group by all
        ),
        districts as (
            select indicator_code, period_type, period_start, numerator, denominator
            from {INDICATORS} where area_level = 'district'
        )
        select indicator_code, period_type, cast(period_start as varchar),
            cast(districts.numerator as double), cast(streets.numerator as double),
            cast(districts.denominator as double), cast(streets.denominator as double)
        from districts
        full join streets using (indicator_code, period_type, period_start)
        where districts.numerator is distinct from streets.numerator
            or districts.denominator is distinct from streets.denominator
        order by 1, 2, 3
    """).fetchall()
    failures = _named(rows, "indicator", "period_type", "period_start", "district_numerator",
                      "streets_numerator", "district_denominator", "streets_denominator")
    return _outcome("district_equals_street_sum", failures,
                    "every district row equals the sum of its street rows",
                    "{} district rows differ from the sum of their streets")


def rates_are_consistent(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    rows = con.sql(f"""
        select indicator_code, area_code, period_type, cast(period_start as varchar),
            cast(numerator as double), cast(denominator as double), value,
            case
                when denominator is null then 'a count''s value is not its numerator'
                when denominator = 0 and value is not null then 'zero denominator with a value'
                when denominator = 0 and status <> '无数据' then 'zero denominator not marked 无数据'
                when denominator <> 0 and value is null then 'rate without a value'
                when value < 0 or value > 1 then 'rate outside [0, 1]'
                else 'value is not numerator / denominator'
            end as problem
        from {INDICATORS}
        where (denominator is null and value is distinct from cast(numerator as double))
            or (denominator = 0 and (value is not null or status <> '无数据'))
            or (denominator <> 0 and (
                value is null or value < 0 or value > 1
                or abs(value - cast(numerator as double) / cast(denominator as double)) > {TOLERANCE}))
        order by 1, 2, 3, 4
    """).fetchall()
    failures = _named(rows, "indicator", "area", "period_type", "period_start", "numerator",
                      "denominator", "value", "problem")
    return _outcome("rates_are_consistent", failures,
                    "every rate is within [0, 1] and equals numerator / denominator",
                    "{} indicator rows are inconsistent")


def rows_reconcile(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    ledger = con.sql("""
        select file_ref, rows_read, rows_loaded, rows_quarantined
        from audit.ingestion_ledger
        where status = 'loaded' and not coalesce(reconciles, false)
        order by seq
    """).fetchall()
    models = con.sql("""
        select dataset, street_code, ledger_rows_loaded, landed_rows, rows_expected_in_models, modelled_rows
        from audit.row_reconciliation
        where not reconciles
        order by 1, 2
    """).fetchall()
    failures = [
        dict(where="file", file_ref=p, rows_read=r, rows_loaded=lo, rows_quarantined=q) for p, r, lo, q in ledger
    ] + [
        dict(where="models", dataset=d, street=s, ledger_rows_loaded=lr, landed_rows=la, expected_in_models=e,
             in_models=m)
        for d, s, lr, la, e, m in models
    ]
    return _outcome("rows_reconcile", failures,
                    "every submitted row is accounted for from file to model",
                    "{} files or dataset/street pairs do not reconcile")


def deterministic(values: pl.DataFrame, fingerprint: str, manifest_id: str, code_version: str,
                  history: HistoryStore) -> CheckOutcome:
    """A previous publish from the same inputs, code and as-of date must have had
    byte-identical indicator values.

    The inputs are named by ``manifest_id``, which covers every loaded submission with
    its quality verdict, held-back ones included (indicator_values.sql): the values'
    quality columns count the left-out submissions, so an id of the included ones alone
    made a held-back file look like "same inputs, other values" and froze publishing."""
    publishes = history.publishes()
    as_of = str(values["as_of_date"][0]) if values.height else ""
    if publishes is None:
        return CheckOutcome("deterministic", True, "no earlier publish to compare with")
    same_inputs = publishes.filter(
        (pl.col("manifest_id") == manifest_id) & (pl.col("code_version") == code_version)
        & (pl.col("as_of_date").cast(pl.Utf8) == as_of)
    )
    differing = same_inputs.filter(pl.col("values_sha256") != fingerprint)
    if differing.height:
        failures = [dict(publish_id=r["publish_id"], run_id=r["run_id"], values_sha256=r["values_sha256"])
                    for r in differing.head(MAX_LISTED).iter_rows(named=True)]
        return CheckOutcome(
            "deterministic", False,
            f"the same inputs (submissions and their quality verdicts), code and as-of date gave different "
            f"values than publish {failures[0]['publish_id']}",
            failures,
        )
    if same_inputs.height:
        return CheckOutcome("deterministic", True,
                            f"values identical to {same_inputs.height} earlier publish(es) of the same inputs")
    return CheckOutcome("deterministic", True, "no earlier publish of the same inputs and code")
