"""A CSV submission: which path reads it, with which encoding.

The two paths give identical tables. The fast path (:mod:`.csv_fast`, tried for files
of at least :data:`FAST_PATH_MIN_BYTES`) is used only when the file proves regular;
everything else takes the exact slow path (:mod:`.csv_slow`). A UTF-8 file goes to the
fast path at once (pyarrow checks the UTF-8); a GB18030 file is transcoded to UTF-8
while its encoding is checked, and the copy is parsed fast.
"""

from __future__ import annotations

import contextlib
import csv
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipelines.contract import Dataset

from ..headers import HeaderMatch, match_headers
from ..model import FileRejected, RawTable
from .csv_fast import _csv_fast
from .csv_slow import _csv_slow
from .encoding import _count_lines, _detect, _sniff_utf8
from .table import _finish

FAST_PATH_MIN_BYTES = 8 * 1024 * 1024  # smaller CSV files always take the exact slow path


def _csv_header(path: Path, encoding: str) -> list[str]:
    with path.open("r", encoding=encoding, newline="") as fh:
        return next(csv.reader(fh), [])


def _line_breaks_allowed(match: HeaderMatch, dataset: Dataset) -> list[bool]:
    """Per header position: whether its values may hold a line break (extra columns,
    not in the contract, may not)."""
    return [c is not None and dataset.column(c).allows_line_break for c in match.columns]


def _read_csv_utf8_fast(path: Path, dataset: Dataset) -> RawTable | None:
    """The fast path for a UTF-8 file, validated by pyarrow instead of a decoding pass.
    ``None`` when anything is off: the full route then decides (encoding first)."""
    encoding = _sniff_utf8(path)
    if encoding is None:
        return None
    try:
        header = _csv_header(path, encoding)
        match = match_headers(header, dataset)
    except (UnicodeDecodeError, FileRejected):
        return None
    with ThreadPoolExecutor(max_workers=1) as pool:  # counting overlaps pyarrow's parse
        lines = pool.submit(_count_lines, path)
        table = _csv_fast(path, lines, len(header), match.width, check_utf8=True)
    if table is None:
        return None
    handed = [table]
    del table
    return _finish(handed, match, dataset, encoding, "csv")


def _read_csv(path: Path, dataset: Dataset, fast: bool | None) -> RawTable:
    use_fast = fast if fast is not None else path.stat().st_size >= FAST_PATH_MIN_BYTES
    if use_fast and (result := _read_csv_utf8_fast(path, dataset)) is not None:
        return result
    with contextlib.ExitStack() as stack:
        utf8_copy = None
        if use_fast:  # a GB18030 file is transcoded while it is checked, then parsed fast
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="union-ingest-"))
            utf8_copy = Path(tmp) / "transcoded.csv"
        probe = _detect(path, utf8_copy)
        if not probe.has_content:
            raise FileRejected("file.empty", detail="the file has no content")
        header = _csv_header(path, probe.encoding)
        match = match_headers(header, dataset)
        table = None
        if utf8_copy is not None and probe.encoding == "gb18030":
            table = _csv_fast(utf8_copy, probe.lines, len(header), match.width, check_utf8=False)
        if table is None:
            table = _csv_slow(path, probe, match.width, _line_breaks_allowed(match, dataset))
        handed = [table]
        del table
        return _finish(handed, match, dataset, probe.encoding, "csv")
