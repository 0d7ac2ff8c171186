"""A JSONL submission: one JSON object a line, its keys matched as the header."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.contract import Dataset

from ..headers import match_headers
from ..model import LINE, MALFORMED, FileRejected, RawTable
from .encoding import _detect
from .table import BATCH_ROWS, _field, _finish, _number_text, _schema, _surplus_malformed, _to_arrow


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    return json.dumps(value, ensure_ascii=False)


def _parse_object(text: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


class _KeyedRows:
    """JSONL rows, their values keyed by the key's position in the union of keys."""

    def __init__(self) -> None:
        self.keys: dict[str, int] = {}
        self._rows: list[tuple[dict[int, str | None], int, bool]] = []
        self._batches: list[pa.Table] = []

    def add(self, obj: dict[str, Any] | None, line: int) -> None:
        values: dict[int, str | None] = {}
        for key, value in (obj or {}).items():
            values[self.keys.setdefault(key, len(self.keys))] = _json_text(value)
        self._rows.append((values, line, obj is None))
        if len(self._rows) >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        seen = sorted({i for values, _, _ in self._rows for i in values})
        data: dict[str, list[Any]] = {_field(i): [r[0].get(i) for r in self._rows] for i in seen}
        data[LINE] = [r[1] for r in self._rows]
        data[MALFORMED] = [r[2] for r in self._rows]
        schema = {**{_field(i): pl.String() for i in seen}, **_schema(0)}
        self._batches.append(_to_arrow(pl.DataFrame(data, schema=schema)))
        self._rows = []

    def table(self, width: int) -> pa.Table:
        """The positional table; text under keys beyond ``width`` marks a row malformed."""
        self._flush()
        table = pa.concat_tables(self._batches, promote_options="default")
        total = len(self.keys)
        malformed = _surplus_malformed(table, width, total)
        if malformed is not None:
            table = table.set_column(
                table.schema.get_field_index(MALFORMED),
                MALFORMED,
                pc.or_(table.column(MALFORMED), malformed),
            )
        return table.select([*(_field(i) for i in range(width)), LINE, MALFORMED])


def _read_jsonl(path: Path, dataset: Dataset, fast: bool | None) -> RawTable:
    probe = _detect(path)
    if not probe.has_content:
        raise FileRejected("file.empty", detail="the file has no content")
    rows = _KeyedRows()
    cut_short = False
    with path.open("r", encoding=probe.encoding, newline="\n") as fh:
        for line_number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            obj = _parse_object(line)
            rows.add(obj, line_number)
            cut_short = obj is None and not line.endswith("\n")
    if cut_short:
        raise FileRejected("file.truncated", detail="the last line is not complete JSON")
    if not rows.keys:
        raise FileRejected("file.unreadable", detail="no line of the file is a JSON object")
    match = match_headers(list(rows.keys), dataset)
    return _finish(rows.table(match.width), match, dataset, probe.encoding, "jsonl")
