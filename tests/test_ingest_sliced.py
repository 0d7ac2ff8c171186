"""Large files are validated and landed in slices (``process.SLICE_ROWS``), the file-wide
rules computed once beforehand: the outputs must be those of the whole-file path."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import Settings
from pipelines.contract import DATASETS_BY_NAME
from pipelines.generate import write_members_csv
from pipelines.ingest import process as process_mod
from pipelines.ingest.ledger import read_ledger
from pipelines.ingest.model import LINE
from pipelines.ingest.process import ingest_pending
from pipelines.ingest.readers import read_submission
from pipelines.ingest.validate import file_facts, validate

S1 = "110101001"
ROWS = 2_000
SLICE = 300  # slices end at rows 300, 600, ...: the defects below straddle them


def _fullwidth(text: str) -> str:
    """The NFKC-equivalent full-width spelling of ASCII text."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _members_with_defects(path: Path) -> None:
    write_members_csv(path, ROWS, seed=11, street_code=S1)
    df = pl.read_csv(path, infer_schema=False)
    cols = df.columns
    mid, idn, status, as_of, name = (cols[i] for i in (0, 2, 9, 13, 1))
    rows = df.rows()
    rows = [list(r) for r in rows]

    def put(i: int, col: str, value: str | None) -> None:
        rows[i][cols.index(col)] = value

    put(10, mid, rows[1500][0])  # a duplicate key across slices (lines 12, 1502)
    put(1499, mid, rows[1501][0])  # and across a slice edge nearby
    put(700, mid, _fullwidth(rows[1200][0]))  # equal after NFKC only
    put(450, mid, rows[50][0])  # row 450 is made malformed below: not a duplicate
    for i in (20, 1800, 599, 600):
        put(i, status, "在会")
    put(1800, idn, rows[20][cols.index(idn)])  # a duplicate active id across slices
    put(600, idn, rows[599][cols.index(idn)])  # and across a slice edge
    for i in range(0, 299):  # the first slice's own mode differs from the file's
        put(i, as_of, "2015-11-30")
    put(301, as_of, "2015/12/31")  # a spelling only full parsing takes
    put(900, name, None)
    put(901, name, "  王五  ")
    out = pl.DataFrame(rows, schema=cols, orient="row")
    text = out.write_csv().splitlines()
    text[451] += ",surplus"  # row 450 (line 452): text beyond the header
    text[1100] = ",".join(text[1100].split(",")[:5])  # a short row
    path.write_text("\n".join(text) + "\n", encoding="utf-8")


def _ingest(root: Path, csv: Path) -> tuple[Settings, object]:
    settings = Settings(raw_dir=root / "raw", data_dir=root / "data", pii_key="k")
    target = settings.inbox / S1 / "members" / csv.name
    target.parent.mkdir(parents=True)
    target.write_bytes(csv.read_bytes())
    [entry] = ingest_pending(settings).entries
    return settings, entry


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    csv = tmp_path_factory.mktemp("src") / "members_2015-12.csv"
    _members_with_defects(csv)
    return csv


def test_the_sliced_path_lands_exactly_what_the_whole_file_path_lands(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole_settings, whole = _ingest(tmp_path / "whole", source)

    calls: list[int] = []
    real_validate = process_mod.validate

    def counting(raw, *args, **kwargs):  # type: ignore[no-untyped-def]
        if raw.height:  # not the empty frames of the landing schemas
            calls.append(raw.height)
        return real_validate(raw, *args, **kwargs)

    monkeypatch.setattr(process_mod, "SLICE_ROWS", SLICE)
    monkeypatch.setattr(process_mod, "validate", counting)
    sliced_settings, sliced = _ingest(tmp_path / "sliced", source)
    assert len(calls) == -(-ROWS // SLICE) and max(calls) == SLICE

    fields = ("status", "rows_read", "rows_loaded", "rows_quarantined", "rows_warned",
              "as_of_date", "landing_path", "quarantine_path", "problems_path", "error_code")
    assert {f: getattr(sliced, f) for f in fields} == {f: getattr(whole, f) for f in fields}
    assert whole.rows_quarantined > 300 and whole.as_of_date == "2015-12-31"
    assert whole.problems_path is not None and whole.quarantine_path is not None
    for rel in (whole.landing_path, whole.quarantine_path, whole.problems_path):
        a = pl.read_parquet(whole_settings.data_dir / rel)
        b = pl.read_parquet(sliced_settings.data_dir / rel)
        assert_frame_equal(a, b)
        assert b[LINE].is_sorted()
    q = pl.read_parquet(whole_settings.data_dir / whole.quarantine_path)
    codes = {(r[LINE], c["code"]) for r in q.iter_rows(named=True) for c in r["_reasons"]}
    assert {(12, "duplicate_key_in_file"), (1502, "duplicate_key_in_file"),
            (702, "duplicate_key_in_file"), (1202, "duplicate_key_in_file"),
            (1501, "duplicate_key_in_file"), (1503, "duplicate_key_in_file"),
            (22, "id_number.duplicate_active"), (1802, "id_number.duplicate_active"),
            (601, "id_number.duplicate_active"), (602, "id_number.duplicate_active"),
            (2, "as_of_date.inconsistent"), (452, "row.malformed")} <= codes
    assert (52, "duplicate_key_in_file") not in codes
    assert (303, "as_of_date.inconsistent") not in codes
    assert len(read_ledger(sliced_settings.ledger_path)) == 1


# 7: a boundary every few rows (size 1, one between every two rows, took 30 s of the suite);
# 1999: a last slice of a single row
@pytest.mark.parametrize("size", [7, 299, 300, 301, 777, 1999])
def test_validate_with_file_facts_on_slices_equals_validate_on_the_whole(
    source: Path, size: int
) -> None:
    dataset = DATASETS_BY_NAME["members"]
    frame = read_submission(source, dataset).frame
    whole = validate(frame, dataset, S1)
    facts = file_facts(frame, dataset, S1)
    parts = [
        validate(frame.slice(s, size), dataset, S1, file_facts=facts)
        for s in range(0, frame.height, size)
    ]
    assert facts.as_of_date == whole.as_of_date
    assert all(p.as_of_date == whole.as_of_date for p in parts)
    assert_frame_equal(pl.concat([p.good for p in parts]), whole.good)
    assert_frame_equal(pl.concat([p.quarantined for p in parts]), whole.quarantined)
    assert_frame_equal(pl.concat([p.problems for p in parts]), whole.problems)


def test_file_facts_of_a_dataset_without_as_of_date() -> None:
    dataset = DATASETS_BY_NAME["dispute_cases"]
    raw = pl.DataFrame(
        {
            "case_id": ["C1", "C2", "Ｃ1", "C3", "C2", None],
            LINE: [2, 3, 4, 5, 6, 7],
            "_malformed": [False, False, False, False, True, False],
        }
    )
    facts = file_facts(raw, dataset, S1)
    assert facts.as_of_date is None
    assert facts.duplicated[("duplicate_key_in_file", "case_id")].to_list() == ["C1"]
    whole = validate(raw, dataset, S1)
    parts = [validate(raw.slice(s, 2), dataset, S1, file_facts=facts) for s in (0, 2, 4)]
    assert_frame_equal(pl.concat([p.quarantined for p in parts]), whole.quarantined)
    assert_frame_equal(pl.concat([p.problems for p in parts]), whole.problems)
