"""The receipt a file would get, without loading it (``union-warehouse validate``).

The file is read, validated and "landed" exactly as ingestion does it
(:func:`pipelines.ingest.process.process_one`: the same size and folder checks, the
same reader, header check and row rules), and its receipt written by
:func:`pipelines.feedback.receipts.write_receipt`, but all of it inside a temporary
directory of its own (a copy of the file under ``inbox/<street>/<dataset>/``, a data dir
with no ledger), removed afterwards. The real ledger is only read, to say whether the
same bytes were loaded before (a duplicate). Nothing under the drop zone or the data
dir is written. The quality gate is not run: the preview's quality verdict is "pending".
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.config import Settings
from pipelines.ingest.dropzone import list_inbox
from pipelines.ingest.ledger import LedgerEntry, LedgerIndex, Status, read_ledger
from pipelines.ingest.process import process_one

from .receipts import read_receipt, receipt_paths, write_receipt


@dataclass(frozen=True)
class Preview:
    receipt: dict[str, Any]  # the receipt's json twin (its problems hold row values)
    entry: LedgerEntry  # the ledger entry ingestion would append (never appended)
    written: tuple[Path, ...] = ()  # the receipt's files copied to the --out dir

    @property
    def would_load_clean(self) -> bool:
        """Loaded whole: not rejected, not a duplicate, no row quarantined."""
        return self.entry.status == Status.LOADED and self.entry.rows_quarantined == 0


def preview_receipt(
    settings: Settings, file: Path, street: str, dataset: str, out_dir: Path | None = None
) -> Preview:
    """The receipt ``file`` would get if ``street`` dropped it in its ``dataset`` folder now."""
    index = LedgerIndex.build(read_ledger(settings.ledger_path))
    # judged as a new submission even if this very path was ledgered with these bytes
    index.last_by_path = {}
    with tempfile.TemporaryDirectory(prefix="union-validate-") as tmp:
        scratch = dataclasses.replace(settings, raw_dir=Path(tmp) / "raw", data_dir=Path(tmp) / "data")
        target = scratch.inbox / street / dataset / file.name
        target.parent.mkdir(parents=True)
        shutil.copyfile(file, target)
        [state] = list_inbox(scratch.raw_dir)
        entry, _ = process_one(scratch, state, index, run_id=None)
        assert entry is not None  # the index knows no path: never "nothing new"
        original = index.original_by_sha.get(entry.sha256) if entry.status == Status.DUPLICATE else None
        write_receipt(scratch, entry, original)
        paths = receipt_paths(scratch, entry)
        receipt = read_receipt(paths.json)
        written: list[Path] = []
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            for p in (paths.xlsx, paths.json):
                written.append(Path(shutil.copyfile(p, out_dir / p.name)))
    return Preview(receipt, entry, tuple(written))
