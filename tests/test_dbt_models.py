"""The dbt warehouse on small hand-made inputs, with every expected number worked out
by hand below.

Two builds share one data directory (module-scoped fixture):

1. phase 1 with plain ``dbt build`` (a fresh database: every model, the incremental one
   included, built from scratch);
2. phase 2 through Dagster (``build_dbt_assets`` materialised): new snapshots and new
   versions of events on top, so ``int_member_snapshots`` runs incrementally and a
   street's corrected snapshot replaces the one it corrects.

The story (streets A = 110101001, B = 110101002; as of 2015-12-31):

- members A 06-30: m1 (O1), m2 (O1), m3 (O2), m4 (O1, no 京卡), all 在会
  members A 09-30: m1 (now O2), m3 (O2, 退会), m4 (O1), m5 (O1, new, 劳务派遣), n1 (O1, from B)
  -> m1 transferred_org, m2 left (missing), m3 left (退会), m5 joined, n1 transferred_street
- members B 06-30: n1, x1; corrected in phase 2 to n1 alone (same date, later file)
  members B 09-30: n2 -> n2 joined; n1's absence is the transfer, not a `left`; x1 was
  never in the effective snapshot, so no event
- case C1 受理 (phase 1) then 调解成功 closed 07-20 (phase 2): one row, closed, 19 days
- contract K2 renews K1; K3 ends 2016-01-15 (expiring within 30 days)
- street B's dispute_cases file fails a critical expectation; B's legal_services file
  has no verdict yet; B's union_orgs 09-30 fails: none of them reaches staging.
- phase 1's verdict files have the shape of files written before file references (a
  ``path`` column with the file's name, no ``file_ref``): the models still read them and
  never pass the name on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.config import Settings
from pipelines.contract import get_dataset
from pipelines.ingest.ledger import LedgerEntry
from pipelines.ingest.pii_columns import with_derived_columns, write_landing_parquet
from pipelines.ingest.process import SEQ, STREET, SUBMISSION
from pipelines.ingest.validate import DTYPES
from pipelines.quality.runner import Verdict
from pipelines.rules.idcard import id18_check_char
from pipelines.warehouse.bootstrap import ensure_dbt_inputs

ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = ROOT / "dbt_project"
A, B = "110101001", "110101002"
KEY = "test-pii-key-for-dbt"
AS_OF = "2015-12-31"
PERSONAL_COLUMNS = {"name", "id_number", "phone", "lawyer_name"}

def resident_id(body17: str) -> str:
    return body17 + id18_check_char(body17)


IDS = {  # person -> resident ID (valid check digits; digit 17 odd = 男)
    "m1": resident_id("11010119800101001"),
    "m2": resident_id("11010119810202002"),
    "m3": resident_id("11010119820303003"),
    "m4": resident_id("11010119830404004"),
    "m5": resident_id("11010119840505005"),
    "n1": resident_id("11010119850606006"),
    "n2": resident_id("11010119860707007"),
    "x1": resident_id("11010119870808008"),
}
NAMES = {p: f"测试人{p}" for p in IDS}


def expected_hash(id_number: str) -> str:
    inner = hashlib.sha256((KEY + id_number).encode()).hexdigest()
    return hashlib.sha256((KEY + inner).encode()).hexdigest()


# --- writing landing data the way ingestion does ----------------------------------------


class Landing:
    """Writes submissions into a data dir with the exact landing layout: typed Parquet,
    a ledger line, and (optionally) quality verdicts."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.seq = 0
        self.legacy_verdicts = False  # write verdict files as before file references: a `path` column

    def submit(self, dataset: str, street: str, rows: list[dict], *, as_of: str | None = None,
               quality: str | None = "pass") -> str:
        self.seq += 1
        ds = get_dataset(dataset)
        sha = hashlib.sha256(f"{dataset}/{street}/{self.seq}".encode()).hexdigest()
        full = []
        for i, r in enumerate(rows, start=2):
            row = {c.name: r.get(c.name) for c in ds.columns}
            row["street_code"] = street
            if ds.is_registry:
                row["as_of_date"] = date.fromisoformat(as_of)  # type: ignore[arg-type]
            row["_line_number"] = i
            full.append(row)
        schema = {c.name: DTYPES[c.type] for c in ds.columns} | {"_line_number": pl.Int64()}
        frame = pl.DataFrame(full, schema=schema, orient="row") if full else pl.DataFrame(schema=schema)
        frame = frame.with_columns(
            pl.lit("extra").alias("备注"),  # an extra column the models must ignore
            pl.lit(sha).alias(SUBMISSION), pl.lit(self.seq, pl.Int64).alias(SEQ), pl.lit(street).alias(STREET),
        )
        rel = f"{dataset}/{street}/{sha}.parquet"
        write_landing_parquet(with_derived_columns(frame, dataset, self.settings.pii_key),
                              self.settings.landing_dir / rel, dataset, self.settings.pii_key)
        entry = LedgerEntry(
            seq=self.seq, path=f"inbox/{street}/{dataset}/file{self.seq}.csv", sha256=sha, bytes=100,
            mtime_ns=0, dataset=dataset, street_code=street, first_seen=f"2015-12-{1 + self.seq % 28:02d}T00:00:00+00:00",
            status="loaded", rows_read=len(rows), rows_loaded=len(rows), as_of_date=as_of, landing_path=f"landing/{rel}",
        )
        self._ledger(entry)
        if quality is not None:
            self._verdicts(dataset, street, sha, entry, failed=quality == "fail")
        return sha

    def reject(self, dataset: str, street: str) -> None:
        self.seq += 1
        self._ledger(LedgerEntry(
            seq=self.seq, path=f"inbox/{street}/{dataset}/bad{self.seq}.csv", sha256="f" * 63 + str(self.seq % 10),
            bytes=5, mtime_ns=0, dataset=dataset, street_code=street, first_seen="2015-12-01T00:00:00+00:00",
            status="rejected", error_code="file.empty",
        ))

    def _ledger(self, entry: LedgerEntry) -> None:
        with self.settings.ledger_path.open("a", encoding="utf-8") as fh:
            fh.write(entry.to_json() + "\n")

    def _verdicts(self, dataset: str, street: str, sha: str, entry: LedgerEntry, *, failed: bool) -> None:
        common = dict(run_id="r", checked_at="2015-12-31T00:00:00+00:00", submission_sha256=sha, file_ref=entry.file_ref,
                      dataset=dataset, street_code=street, suite=dataset, element_count=1, observed_value=None,
                      examples=None, error=None)
        rows = [
            Verdict(expectation="expect_column_values_to_not_be_null", column="street_code", severity="critical",
                    success=True, unexpected_count=0, **common),  # type: ignore[arg-type]
            Verdict(expectation="expect_table_row_count_to_be_between", column=None, severity="warning",
                    success=False, unexpected_count=None, **common),  # type: ignore[arg-type]
        ]
        if failed:
            rows.append(Verdict(expectation="expect_column_values_to_be_unique", column=get_dataset(dataset).key,
                                severity="critical", success=False, unexpected_count=1, **common))  # type: ignore[arg-type]
        target = self.settings.data_dir / "quality" / "results" / dataset / street / f"{sha}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        frame = pl.DataFrame([asdict(v) for v in rows], infer_schema_length=None)
        if self.legacy_verdicts:
            frame = frame.drop("file_ref").with_columns(pl.lit(entry.path).alias("path"))
        frame.write_parquet(target)


def new_landing(base: Path) -> tuple[Landing, Path]:
    """An empty data directory under ``base`` ready for dbt (its seeds' inputs written),
    the :class:`Landing` that fills it, and the dbt target folder beside it."""
    settings = Settings(raw_dir=base / "raw", data_dir=base / "data", pii_key=KEY)
    ensure_dbt_inputs(settings)
    return Landing(settings), base / "target"


def org(org_id: str, status: str = "正常", employees: int = 50) -> dict:
    return dict(org_id=org_id, org_name=f"{org_id}工会", employer_name=f"{org_id}公司", credit_code="91110101MA0000000X",
                industry="I", ownership="私营", employees=employees, members=10, founded_date=date(2010, 1, 1),
                legal_person_registered=False, has_mediation_committee=True, has_workers_congress=True,
                factory_affairs_open=True, is_model_enterprise=employees >= 100, status=status)


def member(person: str, org_id: str, status: str = "在会", *, jingka: bool = True, worker_type: str = "合同制") -> dict:
    id_number = IDS[person]
    return dict(member_id=f"M-{person}", name=NAMES[person], id_number=id_number,
                gender="男" if int(id_number[16]) % 2 else "女", phone="13800138000", org_id=org_id,
                join_date=date(2010, 1, 1), status=status, worker_type=worker_type, jingka_issued=jingka,
                model_worker=None)


def case(case_id: str, status: str, received: date, workers: int, closed: date | None = None) -> dict:
    return dict(case_id=case_id, employer_name="某公司", received_date=received, dispute_type="工资报酬",
                workers_involved=workers, amount_claimed=Decimal("10000.00"), status=status, closed_date=closed,
                amount_settled=Decimal("5000.00") if closed else None, org_id="O1")


def contract(contract_id: str, org_id: str, signed: date, start: date, end: date, renews: str | None = None) -> dict:
    return dict(contract_id=contract_id, org_id=org_id, contract_type="综合性", signed_date=signed, start_date=start,
                end_date=end, employees_covered=120, wage_increase_pct=5.0, standardized=True, renews_contract_id=renews)


def phase1(land: Landing) -> None:
    land.submit("union_orgs", A, [org("O1", employees=120), org("O2")], as_of="2015-06-30")
    land.submit("union_orgs", B, [org("P1")], as_of="2015-06-30")
    land.submit("members", A, [member("m1", "O1"), member("m2", "O1"), member("m3", "O2"),
                               member("m4", "O1", jingka=False)], as_of="2015-06-30")
    land.submit("members", B, [member("n1", "P1"), member("x1", "P1")], as_of="2015-06-30")
    land.submit("street_staff", A, [dict(staff_id="S1", name="王指导", role="集体协商专职指导员",
                                          appointed_date=date(2014, 1, 1), active=True)], as_of="2015-06-30")
    land.submit("dispute_cases", A, [case("C1", "受理", date(2015, 7, 1), 12), case("C2", "调解中", date(2015, 7, 10), 2)])
    land.submit("collective_contracts", A, [
        contract("K1", "O1", date(2012, 12, 20), date(2013, 1, 1), date(2015, 12, 31)),
        contract("K3", "O2", date(2013, 1, 10), date(2013, 1, 16), date(2016, 1, 15)),
    ])
    land.submit("hotline_tickets", A, [
        dict(ticket_id="T1", received_at=datetime(2015, 7, 1, 9), category="欠薪", deadline_at=datetime(2015, 7, 3, 9),
             responded_at=datetime(2015, 7, 1, 10), closed_at=datetime(2015, 7, 2, 12), satisfied=True),
        dict(ticket_id="T2", received_at=datetime(2015, 7, 20, 9), category="工伤", deadline_at=datetime(2015, 8, 1, 9)),
    ])
    land.submit("legal_services", A, [
        dict(service_id="L1", service_date=date(2015, 7, 5), service_type="律师志愿服务", lawyer_name="张律师", people_served=5),
        dict(service_id="L2", service_date=date(2015, 7, 20), service_type="律师志愿服务", lawyer_name="张律师", people_served=7),
        dict(service_id="L3", service_date=date(2015, 8, 1), service_type="法律咨询", lawyer_name="李律师", people_served=1),
    ])
    land.submit("training_events", A, [dict(event_id="E1", event_type="通识课程", title="劳动法", event_date=date(2015, 7, 15),
                                            venue_type="社区", participants=50)])
    land.submit("education_grants", A, [dict(grant_id="G1", member_id="M-m1", program="本科", approved_date=date(2015, 7, 1),
                                             amount=Decimal("8000.00"), full_funding=True)])
    land.submit("facilities", A, [dict(facility_id="F1", org_id="O1", facility_type="职工之家", level="区级", stage="建设",
                                       stage_date=date(2015, 3, 1), funding_amount=Decimal("20000.00"))])
    land.submit("hardship_cases", A, [dict(aid_id="H1", member_id="M-m4", cause="重病", aid_type="建档", aid_date=date(2015, 7, 1))])
    # held back: a failed critical expectation / no verdict yet / a rejected file
    land.submit("dispute_cases", B, [case("D1", "受理", date(2015, 7, 1), 3)], quality="fail")
    land.submit("legal_services", B, [dict(service_id="L9", service_date=date(2015, 7, 5), service_type="法律咨询", people_served=1)],
                quality=None)
    land.reject("members", B)


def phase2(land: Landing) -> None:
    land.submit("members", A, [member("m1", "O2"), member("m3", "O2", "退会"), member("m4", "O1", jingka=False),
                               member("m5", "O1", worker_type="劳务派遣"), member("n1", "O1")], as_of="2015-09-30")
    land.submit("members", B, [member("n1", "P1")], as_of="2015-06-30")  # correction of B's 06-30 list
    land.submit("members", B, [member("n2", "P1")], as_of="2015-09-30")
    land.submit("union_orgs", A, [org("O1", employees=120), org("O2", "注销")], as_of="2015-09-30")
    land.submit("union_orgs", B, [org("P1"), org("P2")], as_of="2015-09-30", quality="fail")
    land.submit("dispute_cases", A, [case("C1", "调解成功", date(2015, 7, 1), 12, closed=date(2015, 7, 20))])
    land.submit("collective_contracts", A, [
        contract("K2", "O1", date(2015, 12, 20), date(2016, 1, 1), date(2018, 12, 31), renews="K1"),
    ])
    land.submit("facilities", A, [dict(facility_id="F1", org_id="O1", facility_type="职工之家", level="区级", stage="验收",
                                       stage_date=date(2015, 9, 1), funding_amount=Decimal("20000.00"),
                                       subsidy_amount=Decimal("8000.00"))])


def dbt(args: list[str], settings: Settings, target: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "UNION_DATA_DIR": str(settings.data_dir), "UNION_PII_KEY": KEY,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
         "--target-path", str(target), "--log-path", str(target / "logs"), "--vars", json.dumps({"as_of_date": AS_OF})],
        env=env, capture_output=True, text=True, cwd=DBT_DIR, timeout=600,
    )


class Built:
    def __init__(self, settings: Settings, target: Path, timings: dict[str, float], dagster_result, rerun,  # type: ignore[no-untyped-def]
                 said: dict[str, str], phase2_member_snapshots_sql: str) -> None:
        self.settings, self.target, self.timings, self.dagster_result = settings, target, timings, dagster_result
        self.rerun, self.said = rerun, said
        self.phase2_member_snapshots_sql = phase2_member_snapshots_sql  # compiled by the incremental phase 2
        self.dbt_file_logs: list[str] = []  # dbt's own log files in the Dagster builds' target folder

    def con(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.settings.warehouse_path), read_only=True)

    def rows(self, sql: str) -> list[tuple]:
        with self.con() as c:
            return c.sql(sql).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    import time

    import dagster as dg
    from dagster_dbt import DbtProject

    from pipelines.orchestration.dbt import build_dbt_assets, build_target_path, dbt_resource
    from pipelines.orchestration.resources import AsOf, UnionPaths

    land, target = new_landing(tmp_path_factory.mktemp("warehouse"))
    settings = land.settings
    timings: dict[str, float] = {}

    land.legacy_verdicts = True
    phase1(land)
    land.legacy_verdicts = False
    t = time.perf_counter()
    first = dbt(["build"], settings, target)
    timings["phase1_dbt_build_s"] = time.perf_counter() - t
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as c:
        phase1_counts = c.sql("select count(*) from intermediate.int_member_snapshots").fetchall()
    assert phase1_counts == [(6,)]  # A 06-30: 4, B 06-30: 2 (before its correction)

    phase2(land)
    project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR, target_path=target)
    assets = build_dbt_assets(project)
    instance = dg.DagsterInstance.ephemeral()

    def materialize() -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [assets], instance=instance, raise_on_error=False,
            resources={"paths": UnionPaths.from_settings(settings), "as_of": AsOf(as_of=AS_OF),
                       "dbt": dbt_resource(project)},
        )

    old_key = os.environ.get("UNION_PII_KEY")
    os.environ["UNION_PII_KEY"] = KEY  # UnionPaths.settings() takes the key from the environment
    try:
        t = time.perf_counter()
        result = materialize()
        timings["phase2_dagster_dbt_build_s"] = time.perf_counter() - t
        assert result.success
        phase2_sql = (build_target_path(settings, project) / "compiled" / "union_warehouse" / "models" / "intermediate"
                      / "int_member_snapshots.sql").read_text(encoding="utf-8")
        # phase 3: the same build again with nothing new: the plan runs the audit and
        # indicator models only
        t = time.perf_counter()
        rerun = materialize()
        timings["phase3_unchanged_rerun_s"] = time.perf_counter() - t
    finally:
        if old_key is None:
            os.environ.pop("UNION_PII_KEY", None)
        else:
            os.environ["UNION_PII_KEY"] = old_key
    assert rerun.success
    print(f"dbt timings on the hand-made fixture: {timings}")
    said = {r.run_id: "\n".join(e.user_message for e in instance.all_logs(r.run_id)) for r in (result, rerun)}
    built = Built(settings, target, timings, result, rerun, said, phase2_sql)
    built.dbt_file_logs = sorted(p.name for p in build_target_path(settings, project).glob("dbt.log*"))
    return built


def test_the_builds_write_no_debug_log_of_dbts_own(built: Built) -> None:
    """dbt's debug file log (every query it sends, some 10 MB a build, a tenth of its CPU)
    is off: the run's dbt log keeps what dbt prints."""
    assert built.dbt_file_logs == []


def test_an_operator_can_still_ask_dbt_for_its_debug_log(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.orchestration.dbt import dbt_environment

    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    with dbt_environment():
        assert os.environ["DBT_LOG_LEVEL_FILE"] == "none"
    assert "DBT_LOG_LEVEL_FILE" not in os.environ  # restored
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    with dbt_environment():
        assert os.environ["DBT_LOG_LEVEL_FILE"] == "debug"


# --- acceptance: only accepted submissions --------------------------------------------------


def test_a_held_back_submission_is_not_in_staging_while_another_streets_is(built: Built) -> None:
    assert built.rows("select street_code, case_id from staging.stg_dispute_cases order by 2") == [(A, "C1"), (A, "C2")]
    # B's legal services file has no quality verdict yet
    assert built.rows("select distinct street_code from staging.stg_legal_services") == [(A,)]
    # B's 09-30 org list failed: B's current orgs are still its 06-30 list
    assert built.rows("select street_code, as_of_date, org_id from staging.stg_union_orgs order by 1, 3") == [
        (A, date(2015, 9, 30), "O1"), (A, date(2015, 9, 30), "O2"), (B, date(2015, 6, 30), "P1")]
    accepted = built.rows(
        "select count(*), count(*) filter (where street_code = '110101002' and dataset in ('dispute_cases', 'legal_services')) "
        "from staging.stg_accepted_submissions")
    assert accepted == [(20, 0)]  # 23 loaded files - 2 failed - 1 unchecked; the rejected file was never loaded


# --- member information --------------------------------------------------------------------


def test_member_changes_between_snapshots(built: Built) -> None:
    events = built.rows(
        "select event_type, member_id, street_code, from_street_code, to_street_code, from_org_id, to_org_id, "
        "event_reason, from_snapshot_date, to_snapshot_date from marts.fct_member_changes order by member_id, event_type"
    )
    jun, sep = date(2015, 6, 30), date(2015, 9, 30)
    assert events == [
        ("transferred_org", "M-m1", A, A, A, "O1", "O2", "org_changed", jun, sep),
        ("left", "M-m2", A, A, None, "O1", None, "missing_from_snapshot", jun, sep),
        ("left", "M-m3", A, A, A, "O2", "O2", "status_退会", jun, sep),
        ("joined", "M-m5", A, None, A, None, "O1", "new_in_snapshot", jun, sep),
        ("transferred_street", "M-n1", A, B, A, "P1", "O1", "seen_in_other_street", jun, sep),
        ("joined", "M-n2", B, None, B, None, "P1", "new_in_snapshot", jun, sep),
    ]
    # exactly one transfer for the member who moved org, one leave for the one who vanished
    assert built.rows("select count(*) from marts.fct_member_changes where member_id = 'M-m1'") == [(1,)]
    assert built.rows("select count(*) from marts.fct_member_changes where member_id = 'M-m2'") == [(1,)]


def test_corrected_snapshot_replaces_the_one_it_corrects_incrementally(built: Built) -> None:
    # phase 2 ran the member snapshots incrementally: only the new files, named literally
    compiled = built.phase2_member_snapshots_sql
    assert re.search(r"and submission_sha256 in \('[0-9a-f]{64}', '[0-9a-f]{64}', '[0-9a-f]{64}'\)", compiled)
    rows = built.rows("select street_code, as_of_date, count(*) from intermediate.int_member_snapshots group by all order by 1, 2")
    assert rows == [(A, date(2015, 6, 30), 4), (A, date(2015, 9, 30), 5), (B, date(2015, 6, 30), 1), (B, date(2015, 9, 30), 1)]
    assert built.rows("select count(*) from marts.fct_member_changes where member_id = 'M-x1'") == [(0,)]


def test_current_members_are_hashed_and_masked(built: Built) -> None:
    rows = built.rows("select member_id, street_code, org_id, member_key, id_number_masked, birth_year, active_street_count "
                      "from marts.dim_member order by member_id")
    assert [r[0] for r in rows] == ["M-m1", "M-m4", "M-m5", "M-n1", "M-n2"]
    m1 = rows[0]
    assert m1[1:3] == (A, "O2")
    assert m1[3] == expected_hash(IDS["m1"])
    assert m1[4] == IDS["m1"][:6] + "********" + IDS["m1"][-4:]
    assert m1[5] == 1980
    assert all(r[6] == 1 for r in rows)


def test_member_history_has_valid_from_and_valid_to(built: Built) -> None:
    rows = built.rows("select member_id, org_id, status, valid_from, valid_to, is_current, ended_by "
                      "from marts.dim_member_history where street_code = '110101001' "
                      "order by member_id, valid_from")
    jun, sep = date(2015, 6, 30), date(2015, 9, 30)
    assert rows == [
        ("M-m1", "O1", "在会", jun, sep, False, "changed"),
        ("M-m1", "O2", "在会", sep, None, True, None),
        ("M-m2", "O1", "在会", jun, sep, False, "missing_from_snapshot"),
        ("M-m3", "O2", "在会", jun, sep, False, "changed"),
        ("M-m3", "O2", "退会", sep, None, True, None),
        ("M-m4", "O1", "在会", jun, None, True, None),
        ("M-m5", "O1", "在会", sep, None, True, None),
        ("M-n1", "O1", "在会", sep, None, True, None),
    ]


def test_membership_counts_and_jingka(built: Built) -> None:
    rows = built.rows("select org_id, worker_type, listed_members, active_members, jingka_holders, is_current_snapshot "
                      "from marts.fct_membership_counts where street_code = '110101001' and as_of_date = '2015-09-30' "
                      "order by 1, 2")
    assert rows == [("O1", "劳务派遣", 1, 1, 1, True), ("O1", "合同制", 2, 2, 1, True), ("O2", "合同制", 2, 1, 1, True)]


def test_union_org_history_records_the_status_change(built: Built) -> None:
    rows = built.rows("select org_id, status, previous_status, valid_from, valid_to from marts.dim_union_org_history "
                      "where street_code = '110101001' order by org_id, valid_from")
    jun, sep = date(2015, 6, 30), date(2015, 9, 30)
    assert rows == [("O1", "正常", None, jun, None), ("O2", "正常", None, jun, sep), ("O2", "注销", "正常", sep, None)]
    assert built.rows("select org_key, is_active, is_large_model_enterprise, industry_name from marts.dim_union_org order by 1") == [
        (f"{A}:O1", True, True, "信息传输、软件和信息技术服务业"), (f"{A}:O2", False, False, "信息传输、软件和信息技术服务业"),
        (f"{B}:P1", True, False, "信息传输、软件和信息技术服务业")]


# --- rights protection --------------------------------------------------------------------


def test_a_case_received_then_settled_appears_once_closed(built: Built) -> None:
    rows = built.rows("select case_id, status, is_closed, outcome, duration_days, open_days, is_collective, "
                      "is_mediation_overdue, version_count from marts.fct_dispute_cases order by case_id")
    assert rows == [
        ("C1", "调解成功", True, "调解成功", 19, None, True, False, 2),
        ("C2", "调解中", False, None, None, 174, False, True, 1),  # 2015-07-10 -> 2015-12-31
    ]


def test_a_renewal_links_to_its_predecessor(built: Built) -> None:
    rows = built.rows("select contract_id, renews_contract_id, renewed_by_contract_id, is_renewed_within_30d, "
                      "renews_known_contract, is_expiring_within_30d, is_valid_on_as_of_date "
                      "from marts.fct_collective_contracts order by contract_id")
    assert rows == [
        ("K1", None, "K2", True, False, True, True),
        ("K2", "K1", None, False, True, False, False),
        ("K3", None, None, False, False, True, True),
    ]


def test_hotline_service_levels(built: Built) -> None:
    rows = built.rows("select ticket_id, responded_on_time, closed_on_time, is_overdue_open from marts.fct_hotline_tickets order by 1")
    assert rows == [("T1", True, True, False), ("T2", False, False, True)]


def test_facility_acceptance_date_and_monthly_aggregates(built: Built) -> None:
    assert built.rows("select stage, is_accepted, accepted_date, version_count from marts.fct_facilities") == [
        ("验收", True, date(2015, 9, 1), 2)]
    july = built.rows(
        "select cases_received, cases_closed, cases_mediated_successfully, cases_closed_decided, tickets_due, "
        "tickets_due_closed_on_time, legal_services, lawyer_volunteer_services, general_course_participants, "
        "education_grants, full_funding_grants, hardship_registrations "
        "from marts.fct_street_monthly where street_code = '110101001' and month_start = '2015-07-01'")
    assert july == [(2, 1, 1, 1, 1, 1, 2, 2, 50, 1, 1, 1)]
    # every street (the seed's 17) x every month from the first dated record (K1 signed
    # 2012-12) to the as-of month 2015-12: 37 months, zero-filled
    assert built.rows("select count(*), count(distinct street_code), min(month_start), max(month_start) "
                      "from marts.fct_street_monthly") == [(17 * 37, 17, date(2012, 12, 1), date(2015, 12, 1))]
    assert built.rows("select lawyer_volunteer_services from marts.fct_street_monthly "
                      "where street_code = '110101002' and month_start = '2015-07-01'") == [(0,)]


# --- personal data never reaches the marts ----------------------------------------------------


def test_no_personal_data_in_any_mart(built: Built) -> None:
    with built.con() as c:
        columns = c.sql("select table_name, column_name, data_type from information_schema.columns "
                        "where table_schema = 'marts'").fetchall()
        assert {t for t, _, _ in columns} >= {"dim_member", "fct_member_changes", "fct_legal_services"}
        assert not [(t, col) for t, col, _ in columns if col in PERSONAL_COLUMNS]
        raw = set(IDS.values()) | set(NAMES.values()) | {"张律师", "李律师", "王指导", "13800138000"}
        id_like = re.compile(r"^[0-9]{17}[0-9X]$")
        for table, col, dtype in columns:
            if dtype != "VARCHAR":
                continue
            values = [v for (v,) in c.sql(f'select distinct "{col}" from marts."{table}" where "{col}" is not null').fetchall()]
            assert not [v for v in values if id_like.match(v)], (table, col)
            assert not raw & set(values), (table, col)
        # nor in staging or intermediate
        for schema in ("staging", "intermediate"):
            cols = c.sql(f"select column_name from information_schema.columns where table_schema = '{schema}'").fetchall()
            assert not {col for (col,) in cols} & PERSONAL_COLUMNS, schema


def test_file_names_stay_in_the_ledger_file(built: Built) -> None:
    """The models name a file by its file reference: no column is a path, and no value is
    a file name of the ledger, not even from verdict files that still carry a `path`."""
    from pipelines.ingest.ledger import read_ledger

    entries = read_ledger(built.settings.ledger_path)
    names = {e.path.rsplit("/", 1)[1] for e in entries}
    assert "file1.csv" in names and any(n.startswith("bad") for n in names)
    refs = {e.sha256: e.file_ref for e in entries}
    with built.con() as c:
        columns = c.sql("select table_schema, table_name, column_name, data_type from information_schema.columns "
                        "where table_catalog = current_database()").fetchall()
        assert not [col for _, _, col, _ in columns if col in ("path", "duplicate_of", "error")]
        for schema, table, col, dtype in columns:
            if "VARCHAR" not in dtype:
                continue
            values = c.sql(f'select distinct cast("{col}" as varchar) from {schema}."{table}" '
                           f'where "{col}" is not null').fetchall()
            assert not [v for (v,) in values if any(n in v for n in names)], (schema, table, col)
        for table, sha in (("audit.ingestion_ledger", "sha256"), ("audit.quality_results", "submission_sha256"),
                           ("indicators.indicator_manifest", "submission_sha256"),
                           ("staging.stg_accepted_submissions", "submission_sha256")):
            got = c.sql(f"select distinct {sha}, file_ref from {table}").fetchall()
            assert got and all(ref == refs[s] for s, ref in got), table
        # phase 1's verdicts (legacy files with a `path`) have their file reference too
        assert c.sql("select count(*) from audit.quality_results where file_ref is null").fetchall() == [(0,)]
        ledger = c.sql("select status, file_ref from audit.ingestion_ledger").fetchall()
        assert {status for status, _ in ledger} == {"loaded", "rejected"}
        assert all(re.fullmatch(r"inbox/\d{9}/\w+/#[0-9a-f]{10}\.csv", ref) for _, ref in ledger), ledger


def test_the_hashing_key_is_in_no_compiled_file_or_log(built: Built) -> None:
    for f in built.target.rglob("*"):
        if f.is_file() and f.suffix in {".sql", ".json", ".log", ".txt", ".msgpack"}:
            assert KEY.encode() not in f.read_bytes(), f


# --- dbt tests as Dagster asset checks; docs --------------------------------------------------


def test_a_staging_value_outside_the_contract_fails_its_models_contract_test(
        built: Built, tmp_path: Path) -> None:
    """One contract_values test per staging model checks every enum column against the
    contract and the street code against the street list (tests/generic/contract_values.sql):
    a copy of the built warehouse with a member's gender and another's street changed
    under the test fails it, with one result row per column at fault."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(built.settings.data_dir, data)
    with duckdb.connect(str(data / "warehouse" / "working.duckdb")) as con:
        con.execute("update staging.stg_members set gender = '未知' where member_id = "
                    "(select min(member_id) from staging.stg_members)")
        con.execute("update staging.stg_members set street_code = '110101999' where member_id = "
                    "(select max(member_id) from staging.stg_members)")
    copy = Settings(raw_dir=built.settings.raw_dir, data_dir=data, pii_key=KEY)
    passed = dbt(["test", "--select", "contract_values_stg_union_orgs"], copy, tmp_path / "target")
    assert passed.returncode == 0, passed.stdout[-3000:]
    failed = dbt(["test", "--select", "contract_values_stg_members"], copy, tmp_path / "target")
    assert failed.returncode != 0
    assert re.search(r"Failure in test contract_values_stg_members .*\n.*Got 2 results", failed.stdout), \
        failed.stdout[-3000:]


def test_dbt_tests_ran_as_asset_checks(built: Built) -> None:
    evaluations = built.dagster_result.get_asset_check_evaluations()
    assert len(evaluations) > 100
    failed_errors = [e for e in evaluations if not e.passed and e.severity.value == "ERROR"]
    assert not failed_errors, [e.check_name for e in failed_errors]
    keys = {e.asset_key.to_user_string() for e in built.dagster_result.get_asset_materialization_events()}
    assert {"marts/dim_member", "staging/stg_members", "reference/streets", "intermediate/int_member_snapshots"} <= keys


def test_a_rerun_with_nothing_new_does_not_start_dbt(built: Built) -> None:
    """The build plan through Dagster (pipelines/warehouse/build_plan.py): the first
    Dagster build finds no record from the plain dbt build before it and builds
    everything; the second finds nothing changed (no dataset, not the ledger, not a
    verdict) and starts no dbt at all, yet reports every model current. (A change of the
    ledger alone, a rejected file, runs only the audit and indicator models:
    tests/test_build_plan.py.)"""
    from pipelines.warehouse import build_state

    first, rerun = built.dagster_result, built.rerun
    assert "full build (no completed build recorded in this warehouse)" in built.said[first.run_id]
    assert "incremental build: datasets changed since the last build: none; running 0 of" in built.said[rerun.run_id]

    def materialized(result, rebuilt: bool = True) -> set[str]:  # type: ignore[no-untyped-def]
        return {
            e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
            if ("rebuilt" not in e.materialization.metadata) == rebuilt
        }

    def checked(result) -> set[str]:  # type: ignore[no-untyped-def]
        return {e.check_name for e in result.get_asset_check_evaluations()}

    assert materialized(rerun) == set()
    # the models left out are still reported (marked not rebuilt), or Dagster would skip
    # every step downstream of them: alerts, publish, docs
    assert materialized(rerun, rebuilt=False) == materialized(first)
    assert not materialized(first, rebuilt=False)
    assert "unique_dim_member_member_key" in checked(first) and not checked(rerun)
    assert not any("Running dbt command" in line for line in built.said[rerun.run_id].splitlines())
    recorded = build_state.read_recorded(built.settings.warehouse_path)
    assert recorded is not None and {"members", "dispute_cases", "_as_of_date", "_audit"} <= set(recorded)


def test_a_failing_dbt_test_stops_every_step_after_the_build(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dbt checks are not blocking (pipelines/orchestration/dbt.py says why): a test
    that fails at error severity must still stop what comes after the build. On a copy of
    the warehouse, a stored member row loses its member id, the build record is dropped
    (so the next build is a full one and runs every test, the incremental table keeping
    the planted row), and the dbt assets are materialised with an asset downstream of
    them, standing in for alerts and publish."""
    import shutil

    import dagster as dg
    from dagster_dbt import DbtProject

    from pipelines.orchestration.dbt import build_dbt_assets, dbt_resource, prepare_manifest
    from pipelines.orchestration.dbt_log import dbt_log_path
    from pipelines.orchestration.resources import AsOf, UnionPaths
    from pipelines.warehouse import build_state

    settings = Settings(raw_dir=tmp_path / "raw", data_dir=tmp_path / "data", pii_key=KEY)
    shutil.copytree(built.settings.data_dir, settings.data_dir)
    with duckdb.connect(str(settings.warehouse_path)) as c:
        c.execute("insert into intermediate.int_member_snapshots "
                  "select * replace (null as member_id) from intermediate.int_member_snapshots limit 1")
    build_state.forget(settings.warehouse_path)
    assert all(not spec.blocking for spec in build_dbt_assets().check_specs)

    ran: list[str] = []

    @dg.asset(deps=[dg.AssetKey(["marts", "dim_member"])])
    def after_the_build() -> None:
        ran.append("after_the_build")

    project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR, target_path=tmp_path / "target")
    # the definitions only read a prepared manifest: the session's, not a second dbt parse
    project.manifest_path.parent.mkdir(parents=True)
    shutil.copyfile(prepare_manifest(), project.manifest_path)
    monkeypatch.setenv("UNION_PII_KEY", KEY)  # UnionPaths.settings() takes the key from the environment
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [build_dbt_assets(project), after_the_build], raise_on_error=False, instance=instance,
        resources={"paths": UnionPaths.from_settings(settings), "as_of": AsOf(as_of=AS_OF),
                   "dbt": dbt_resource(project)})
    assert not result.success
    failed = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert "not_null_int_member_snapshots" in failed
    # the failed build still says what failed, by name, and where dbt's lines are
    log = dbt_log_path(settings.data_dir, result.run_id)
    said = "\n".join(e.user_message for e in instance.all_logs(result.run_id))
    assert re.search(r"dbt build: .* built; \d+ tests: \d+ pass, \d+ warn, [1-9]\d* error(, \d+ skipped)? in [\d.]+ s "
                     rf"\(log: {re.escape(str(log))}\)", said), said[-3000:]
    assert re.search(r"tests failed:\n  not_null_int_member_snapshots \(fail\): Got 1 result", said)
    assert re.search(r"\d+ of \d+ FAIL 1 not_null_int_member_snapshots ", log.read_text(encoding="utf-8"))
    # the test's own query (what the log points the operator to) names the column and its nulls
    compiled = next(p for p in (tmp_path / "target").rglob("not_null_int_member_snapshots.sql")
                    if "compiled" in p.parts)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as c:
        assert c.execute(compiled.read_text(encoding="utf-8")).fetchall() == [("member_id", 1)]
    assert ran == [] and "after_the_build" not in {
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert build_state.read_recorded(settings.warehouse_path) is None  # the next build is a full one again


def test_docs_generate_works(built: Built) -> None:
    out = dbt(["docs", "generate"], built.settings, built.target)
    assert out.returncode == 0, out.stdout[-3000:]
    catalog = json.loads((built.target / "catalog.json").read_text(encoding="utf-8"))
    manifest = json.loads((built.target / "manifest.json").read_text(encoding="utf-8"))
    for uid, node in catalog["nodes"].items():
        documented = manifest["nodes"][uid]
        assert documented["description"], uid
        for col in node["columns"]:
            assert documented["columns"].get(col.lower(), {}).get("description"), (uid, col)
