"""Reading a submitted file (.csv, .xlsx, .xls, .et, .ods, .jsonl) into a :class:`RawTable`.

Every value comes out as a string exactly as written, except that empty or
whitespace-only cells become null; trimming, typing and row rules are the validator's
job. Each row carries the line (CSV/JSONL) or sheet row (XLSX) it starts on, and
whether it could be split against the header (``_malformed``). A file that breaks a
file rule raises :class:`FileRejected` with one ``file.*`` code.

One module a concern:

- :mod:`.encoding`: encoding detection and line-break counts (CSV and JSONL);
- :mod:`.csv_file`: which CSV path a file takes; :mod:`.csv_fast` (pyarrow, for a
  regular file) and :mod:`.csv_slow` (the ``csv`` module, exact) give identical tables;
- :mod:`.jsonl` and :mod:`.xlsx`: the other two formats;
- :mod:`.workbook`: .xls, WPS .et and .ods (python-calamine; the container is told by
  its magic bytes), giving the table the .xlsx reader gives for the same cells;
- :mod:`.table`: the positional Arrow table every reader builds, and how it is finished.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from pipelines.contract import Dataset

from ..model import FileRejected, RawTable
from .csv_file import FAST_PATH_MIN_BYTES, _read_csv
from .jsonl import _read_jsonl
from .workbook import _read_workbook
from .xlsx import _read_xlsx

__all__ = ["FAST_PATH_MIN_BYTES", "read_submission"]


def read_submission(path: Path, dataset: Dataset, *, fast: bool | None = None) -> RawTable:
    """Read ``path`` as a submission of ``dataset``; raises :class:`FileRejected`.

    ``fast`` forces (True) or forbids (False) trying the CSV fast path; by default it is
    tried for CSV files of at least :data:`FAST_PATH_MIN_BYTES`. Either way the result
    is the same table.
    """
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise FileRejected("file.unsupported_format", detail=f"extension {suffix or '(none)'}")
    try:
        return reader(path, dataset, fast)
    except (FileRejected, MemoryError):
        raise
    except OSError as exc:
        detail = f"{type(exc).__name__}: {exc.strerror or 'input/output error'}"
        raise FileRejected("file.unreadable", detail=detail) from exc
    except csv.Error as exc:  # its messages name the problem, never a value
        raise FileRejected("file.unreadable", detail=f"csv.Error: {exc}") from exc
    except Exception as exc:  # any parser failure rejects the file; no message: it may quote data
        detail = f"{type(exc).__name__} while reading the {suffix[1:]} file"
        raise FileRejected("file.unreadable", detail=detail) from exc


_READERS: dict[str, Callable[[Path, Dataset, bool | None], RawTable]] = {
    ".csv": _read_csv,
    ".xlsx": _read_xlsx,
    ".xls": _read_workbook,
    ".et": _read_workbook,
    ".ods": _read_workbook,
    ".jsonl": _read_jsonl,
}
