"""The invariants a hostile batch must keep after ingestion, checked against each case's
ground truth (:mod:`tests.hostile.generator`).

:func:`check_ingestion` returns violations as short lines ``<kind@seed> <what>``: never a
planted personal value, never a file name (which may hold one).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

from pipelines.config import Settings
from pipelines.contract import DATASETS_BY_NAME
from pipelines.ingest.ledger import LedgerEntry, read_ledger

from .generator import (
    DUP_OR_QUARANTINED,
    DUPLICATE,
    EITHER,
    IGNORED,
    LOAD,
    MUST_LOAD,
    MUST_QUARANTINE,
    NOT_READ,
    REJECT,
    Case,
    FileTruth,
)

LINE = "_line_number"
TOKEN = re.compile(r"(?:H|OUT)\d{9}")
PATH_FIELDS = {"path", "duplicate_of"}  # the ledger may name files (and so what their names hold)
PERSONAL = {c for d in DATASETS_BY_NAME.values() for c in d.personal_columns}


def planted_forms(cases: Iterable[Case]) -> set[str]:
    """Every planted personal value, in the forms it may be written in."""
    out: set[str] = set()
    for case in cases:
        for value in case.planted:
            out |= {value, value.upper(), value.lower()}
    return {v for v in out if len(v) >= 2}


def find_planted(text: str, planted: set[str]) -> int:
    """How many planted values occur in ``text`` (never which: the message stays clean)."""
    return sum(1 for v in planted if v in text)


def token_homes(cases: Iterable[Case]) -> dict[str, str]:
    """token -> the one street folder its rows may land in (``@outside``: nowhere)."""
    homes: dict[str, str] = {}
    for case in cases:
        homes.update(case.tokens)
    return homes


def token_folders(cases: Iterable[Case]) -> dict[str, set[str]]:
    """token -> every street folder holding a regular file with it (whatever its fate)."""
    out: dict[str, set[str]] = {}
    for case in cases:
        for f in case.files:
            if f.node == "file" and f.token and f.outcome != IGNORED:
                out.setdefault(f.token, set()).add(f.street)
    return out


def _read(settings: Settings, rel: str | None) -> pl.DataFrame | None:
    if rel is None:
        return None
    path = settings.data_dir / rel
    return pl.read_parquet(path) if path.exists() else None


def _lines(frame: pl.DataFrame | None) -> list[int]:
    if frame is None or LINE not in frame.columns:
        return []
    return frame[LINE].to_list()


def _keys(frame: pl.DataFrame | None, key: str) -> set[str]:
    if frame is None or key not in frame.columns:
        return set()
    return {str(k) for k in frame[key].drop_nulls().to_list()}


@dataclasses.dataclass
class Matched:
    case: Case
    file: FileTruth
    entries: list[LedgerEntry]


def match_entries(cases: Sequence[Case], entries: list[LedgerEntry]) -> tuple[list[Matched], list[LedgerEntry]]:
    """Each generated file with its ledger entries (by path; by bytes and folder for a name
    that is not UTF-8, whose spelling in the ledger is the implementation's choice), and
    the entries no generated file accounts for."""
    left = list(entries)
    out: list[Matched] = []
    pending: list[Matched] = []
    for case in cases:
        for f in case.files:
            m = Matched(case, f, [])
            out.append(m)
            if f.node == "dirlink":
                link = f.rel.decode()
                m.entries = [e for e in left if e.path == link or e.path.startswith(link + "/")]
            elif f.rel_text is not None:
                m.entries = [e for e in left if e.path == f.rel_text]
            else:
                pending.append(m)
                continue
            left = [e for e in left if all(e is not x for x in m.entries)]
    for m in pending:  # names that are not UTF-8: same bytes, same folders
        prefix = f"inbox/{m.file.street}/{m.file.dataset}/"
        m.entries = [e for e in left if e.sha256 == m.file.sha256 and e.path.startswith(prefix)][:1]
        left = [e for e in left if all(e is not x for x in m.entries)]
    return out, left


def check_ingestion(
    settings: Settings,
    cases: Sequence[Case],
    *,
    raised: BaseException | None = None,
    errors: Sequence[tuple[str, str]] = (),
    log_text: str = "",
) -> list[str]:
    """Every invariant of the ingestion level; returns the violations."""
    v: list[str] = []
    if raised is not None:
        v.append(f"(batch) ingest_pending raised {type(raised).__name__}: the rest of the batch was never processed")
    for _path, exc in errors:
        v.append(f"(batch) internal error {exc} on a file: it stays pending")
    entries = read_ledger(settings.ledger_path)
    matched, unexplained = match_entries(cases, entries)
    for e in unexplained:
        v.append(f"(batch) ledger entry {e.seq} ({e.status}, street {e.street_code}) matches no generated file")
    homes = token_homes(cases)
    for m in matched:
        v.extend(f"{m.case.case_id} {what}" for what in _check_file(settings, m, homes))
    v.extend(_check_landing_tree(settings, homes))
    planted = planted_forms(cases)
    owners = {e.seq: m.case.case_id for m in matched for e in m.entries}
    v.extend(_check_pii(settings, entries, planted, log_text, owners))
    return v


def _check_file(settings: Settings, m: Matched, homes: dict[str, str]) -> Iterable[str]:
    f, es = m.file, m.entries
    what = f"{f.node} {f.outcome}"
    if f.outcome == IGNORED:
        if es:
            yield f"{what}: {len(es)} ledger entr{'y' if len(es) == 1 else 'ies'} for a path that must be ignored"
        return
    if f.outcome == NOT_READ:
        inside = [e for e in es if f.node == "dirlink" and e.path != f.rel_text]
        if inside:
            yield f"{what}: {len(inside)} file(s) read through a linked folder"
        for e in es:
            if e.status != "rejected" or not e.error_code:
                yield f"{what}: a {f.node} was read (status {e.status}, {e.rows_loaded} rows loaded)"
        if len(es) > 1:
            yield f"{what}: {len(es)} ledger entries"
        return
    if len(es) != 1:
        yield f"{what}: {len(es)} ledger entries (expected exactly one)"
        if not es:
            return
    e = es[0]
    if e.street_code is not None and e.street_code != f.street:
        yield f"{what}: ledgered for street {e.street_code}, the folder is {f.street}"
    status = e.status
    if status in ("rejected", "duplicate"):
        if not e.error_code:
            yield f"{what}: {status} without an error_code"
        if e.rows_loaded or e.landing_path or e.quarantine_path:
            yield f"{what}: {status} yet rows landed ({e.rows_loaded}) or outputs written"
    if f.outcome == LOAD and status != "loaded":
        yield f"{what}: status {status} ({e.error_code}), expected loaded"
    elif f.outcome == REJECT:
        if status != "rejected":
            yield f"{what}: status {status}, expected rejected with {sorted(f.codes)}"
        elif f.codes and e.error_code not in f.codes:
            yield f"{what}: rejected as {e.error_code}, expected one of {sorted(f.codes)}"
    elif f.outcome == EITHER:
        if status == "rejected" and f.codes and e.error_code not in f.codes:
            yield f"{what}: rejected as {e.error_code}, expected one of {sorted(f.codes)} (or loaded)"
        elif status not in ("loaded", "rejected"):
            yield f"{what}: status {status}, expected loaded or rejected"
    elif f.outcome == DUPLICATE and status != "duplicate":
        yield f"{what}: status {status}, expected duplicate"
    elif f.outcome == DUP_OR_QUARANTINED and status not in ("duplicate", "loaded"):
        yield f"{what}: status {status} ({e.error_code}), expected duplicate or loaded-and-quarantined"
    if status == "loaded":
        yield from _check_loaded(settings, f, e, homes)


def _check_loaded(settings: Settings, f: FileTruth, e: LedgerEntry, homes: dict[str, str]) -> Iterable[str]:
    what = f"{f.node} {f.outcome}"
    if e.rows_read != e.rows_loaded + e.rows_quarantined:
        yield f"{what}: rows_read {e.rows_read} != loaded {e.rows_loaded} + quarantined {e.rows_quarantined}"
    if e.rows_read != len(f.records):
        yield f"{what}: rows_read {e.rows_read}, the file holds {len(f.records)} records"
    expected_dir = f"landing/{f.dataset}/{f.street}/"
    if not (e.landing_path or "").startswith(expected_dir):
        yield f"{what}: landed under {'/'.join((e.landing_path or '-').split('/')[:3])}, not {expected_dir}"
    landed = _read(settings, e.landing_path)
    quarantined = _read(settings, e.quarantine_path)
    if landed is None:
        yield f"{what}: no landing file"
    if e.rows_quarantined and quarantined is None:
        yield f"{what}: {e.rows_quarantined} rows quarantined but no quarantine file"
    if landed is not None and landed.height != e.rows_loaded:
        yield f"{what}: landing holds {landed.height} rows, the ledger says {e.rows_loaded}"
    if quarantined is not None and quarantined.height != e.rows_quarantined:
        yield f"{what}: quarantine holds {quarantined.height} rows, the ledger says {e.rows_quarantined}"
    good, bad = Counter(_lines(landed)), Counter(_lines(quarantined))
    on_lines = [r for r in f.records if r.line is not None]
    expected = {r.line for r in on_lines}
    vanished, wrong_load, wrong_quarantine = [], [], []
    for r in on_lines:
        if r.line not in good and r.line not in bad:
            vanished.append(r.line)
        elif r.fate == MUST_LOAD and r.line not in good:
            wrong_quarantine.append(r.line)
        elif r.fate == MUST_QUARANTINE and r.line in good:
            wrong_load.append(r.line)
    if vanished:
        yield f"{what}: record line(s) {vanished[:8]} neither loaded nor quarantined"
    if wrong_quarantine:
        yield f"{what}: good row line(s) {wrong_quarantine[:8]} quarantined"
    if wrong_load:
        yield f"{what}: bad row line(s) {wrong_load[:8]} loaded"
    if len(on_lines) == len(f.records):  # every record is on a known line
        both = sorted(set(good) & set(bad))
        twice = sorted(n for n, c in (good + bad).items() if c > 1)
        phantom = sorted((set(good) | set(bad)) - expected)
        if both or twice:
            yield f"{what}: line(s) {(both or twice)[:8]} output more than once"
        if phantom:
            yield f"{what}: rows at line(s) {phantom[:8]}, where the file has no record"
    dataset = DATASETS_BY_NAME[f.dataset]
    off_sheet = [r for r in f.records if r.line is None]
    if off_sheet:
        seen = _keys(landed, dataset.key) | _keys(quarantined, dataset.key)
        missing = [r.key for r in off_sheet if r.key not in seen]
        if missing:
            yield f"{what}: {len(missing)} of {len(off_sheet)} rows of another sheet neither loaded nor quarantined"
        must_load = [r.key for r in off_sheet if r.fate == MUST_LOAD and r.key not in _keys(landed, dataset.key)]
        if must_load and not missing:
            yield f"{what}: {len(must_load)} good rows of another sheet not loaded"
    if landed is not None and landed.height:
        foreign = {t for t in _tokens(landed) if t != f.token}
        if foreign:
            yield f"{what}: landed rows carry {len(foreign)} other file(s)' record keys"


def _tokens(frame: pl.DataFrame) -> set[str]:
    found: set[str] = set()
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            for value in frame[name].drop_nulls().unique().to_list():
                found.update(TOKEN.findall(value))
    return found


def landing_files(settings: Settings) -> Iterable[tuple[str, str, Path]]:
    """(dataset, street, path) of every landing Parquet (the empty schema files excluded)."""
    for path in sorted(settings.landing_dir.glob("*/*/*.parquet")):
        dataset, street = path.parent.parent.name, path.parent.name
        if street != "_schema":
            yield dataset, street, path


def _check_landing_tree(settings: Settings, homes: dict[str, str]) -> Iterable[str]:
    """Street isolation over everything landed: a street's folder holds only its rows."""
    for dataset, street, path in landing_files(settings):
        frame = pl.read_parquet(path)
        ref = f"landing/{dataset}/{street}/{path.name[:12]}"
        for column in ("street_code", "_street_code"):
            if column in frame.columns:
                others = frame.filter(pl.col(column).is_null() | (pl.col(column) != street)).height
                if others:
                    yield f"(tree) {ref}: {others} row(s) whose {column} is not the folder's street"
        for token in _tokens(frame):
            home = homes.get(token)
            if home == "@outside":
                yield f"(tree) {ref}: rows of a file outside the drop zone (token {token}) landed"
            elif home is not None and home != street:
                yield f"(tree) {ref}: rows of street {home}'s file (token {token}) landed in {street}'s folder"
    for folder in (settings.quarantine_dir, settings.problems_dir):
        for path in folder.glob("*/*/*.parquet"):
            if any(homes.get(t) == "@outside" for t in _tokens(pl.read_parquet(path))):
                yield f"(tree) {folder.name}/{path.parent.parent.name}/{path.parent.name}: rows of a file outside the drop zone"


def _check_pii(settings: Settings, entries: list[LedgerEntry], planted: set[str], log_text: str,
               owners: dict[int, str]) -> Iterable[str]:
    for e in entries:
        fields = {k: val for k, val in dataclasses.asdict(e).items() if k not in PATH_FIELDS and val is not None}
        text = "\n".join(map(str, fields.values()))
        n = find_planted(text, planted)
        if n:
            where = sorted(k for k, val in fields.items() if find_planted(str(val), planted))
            yield f"{owners.get(e.seq, '(pii)')} ledger entry {e.seq} ({e.status}): {n} planted value(s) in {where}"
    if log_text:
        n = find_planted(log_text, planted)
        if n:
            yield f"(pii) {n} planted value(s) in the log records"
    for dataset, street, path in landing_files(settings):
        frame = pl.read_parquet(path)
        for name, dtype in frame.schema.items():
            if name in PERSONAL or dtype != pl.String:
                continue
            text = "\n".join(frame[name].drop_nulls().to_list())
            n = find_planted(text, planted)
            if n:
                yield f"(pii) landing/{dataset}/{street}: {n} planted value(s) in non-personal column {name!r}"
