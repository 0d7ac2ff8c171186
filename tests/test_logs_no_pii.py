"""Logs and run metadata carry counts and timings, never personal data.

Reads what one real run of a small generated district left (the uninterrupted run of
``test_crash_safety``, started once per session; its log level is INFO): the command's
stderr and stdout, and every event, run tag and config in the Dagster instance's event
log (asset metadata, check results, step logs). No name, ID number or phone of the
streets' submissions may appear there.
"""

from __future__ import annotations

import re

import polars as pl
import pytest

from pipelines.config import Settings
from pipelines.contract import DATASETS

from .helpers import instance_text
from .test_crash_safety import REPO, clean_district_run

CJK = re.compile(r"[\u3400-\u9fff]+")
DIGITS = re.compile(r"\d{7,}")


def personal_values(settings: Settings) -> dict[str, set[str]]:
    """Every value of a column the contract marks personal, from the run's landing and
    quarantine files (where personal data is allowed to live), by column."""
    out: dict[str, set[str]] = {}
    for dataset in DATASETS:
        columns = [c.name for c in dataset.columns if c.personal]
        for folder in (settings.landing_dir, settings.quarantine_dir):
            for path in (folder / dataset.name).glob("*/*.parquet"):
                frame = pl.read_parquet(path)
                for column in columns:
                    if column in frame.columns:
                        values = frame[column].drop_nulls().cast(pl.String).str.strip_chars()
                        out.setdefault(column, set()).update(v for v in values.to_list() if len(v) >= 2)
    return out


def _cjk_substrings(text: str, longest: int = 4) -> set[str]:
    found: set[str] = set()
    for run in CJK.findall(text):
        for size in range(2, longest + 1):
            found.update(run[i : i + size] for i in range(len(run) - size + 1))
    return found


def _vocabulary() -> set[str]:
    """Chinese words of the project itself (contract, docs, models, seeds): a generated
    name that is also one of these is not evidence of a leak."""
    texts = []
    for pattern in ("pipelines/**/*.py", "pipelines/**/*.yaml", "docs/*.md", "dbt_project/models/**/*.sql",
                    "dbt_project/models/**/*.yml", "dbt_project/seeds/*.csv", "expectations/*.json"):
        texts.extend(p.read_text(encoding="utf-8", errors="replace") for p in REPO.glob(pattern) if p.is_file())
    return _cjk_substrings("\n".join(texts))


def leaks(text: str, personal: dict[str, set[str]], vocabulary: set[str]) -> dict[str, list[str]]:
    digits = set(DIGITS.findall(text))
    words = _cjk_substrings(text)
    found: dict[str, list[str]] = {}
    for column, values in personal.items():
        hits = [v for v in values if (v in digits or v in words or (not v.isdigit() and not CJK.fullmatch(v)
                                                                    and v in text))
                and v not in vocabulary]
        if hits:
            found[column] = sorted(hits)[:10]
    return found


def check_logs_and_run_metadata_hold_no_personal_data(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Run by ``tests/test_crash_safety.py``, the module whose uninterrupted run it reads
    (made once per test session, :func:`clean_district_run`)."""
    run = clean_district_run(tmp_path_factory)
    assert run.wait() == 0, run.tail()
    settings = run.settings
    personal = personal_values(settings)
    # the check must have something to find: names, ID numbers and phones were submitted
    assert {"name", "id_number", "phone"} <= set(personal)
    assert min(len(personal[c]) for c in ("name", "id_number", "phone")) > 50, {c: len(v) for c, v in personal.items()}
    vocabulary = _vocabulary()

    logs = run.stderr_path.read_text(errors="replace") + "\n" + (run.root / "cli.stdout").read_text(errors="replace")
    # the logs are there and say what happened in counts and timings
    assert re.search(r"ingested file=inbox/\d{9}/members/#[0-9a-f]{10}\.\w+ seq=\d+ sha256=[0-9a-f]{12} dataset=members street=\d{9} status=loaded read=\d+ loaded=\d+", logs)
    assert re.search(r"Step timings: ingest_submissions [\d.]+ s", logs)
    assert leaks(logs, personal, vocabulary) == {}

    events = instance_text(settings.data_dir / "dagster")
    assert '"rows_loaded"' in events and "STEP_SUCCESS" in events
    assert leaks(events, personal, vocabulary) == {}


def test_the_leak_finder_finds_a_leak() -> None:
    personal = {"name": {"王小明", "李四"}, "id_number": {"11010119900307123X"}, "phone": {"13812345678"}}
    text = "INFO row 3 of members: 王小明 (11010119900307123X), call 13812345678; 李四川 too"
    assert leaks(text, personal, set()) == {"name": ["李四", "王小明"], "id_number": ["11010119900307123X"],
                                            "phone": ["13812345678"]}
    assert leaks(text, personal, {"李四"}) == {"name": ["王小明"], "id_number": ["11010119900307123X"],
                                              "phone": ["13812345678"]}
    assert leaks("rows_loaded=12 in 0.3 s", personal, set()) == {}


def test_a_file_named_after_a_person_is_not_named_in_the_log(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    """Streets name their own files, sometimes after the member they concern: the log
    line says which file through its folders and a digest, the ledger keeps the name."""
    import logging

    from pipelines.ingest.ledger import read_ledger
    from pipelines.ingest.process import ingest_pending

    settings = Settings(raw_dir=tmp_path / "raw", data_dir=tmp_path / "data", pii_key="k")
    folder = settings.inbox / "110101003" / "members"
    folder.mkdir(parents=True)
    (folder / "王小明入会申请.csv").write_text("姓名,身份证号\n王小明,11010119900307123X\n", encoding="utf-8")
    with caplog.at_level(logging.INFO):
        ingest_pending(settings, run_id="r")
    (entry,) = read_ledger(settings.ledger_path)
    assert entry.path.endswith("王小明入会申请.csv")
    assert "ingested file=inbox/110101003/members/#" in caplog.text
    assert "王小明" not in caplog.text and "11010119900307123X" not in caplog.text
