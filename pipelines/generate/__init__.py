"""Synthetic submissions of a realistic Dongcheng district for 2015 (all streets, all
datasets), optionally with defects injected and recorded in a manifest.

    manifest = generate_district(Path("raw"), scale=1.0, seed=2015, defects=True)

writes ``raw/inbox/<street_code>/<dataset>/<file>`` and ``raw/manifest.json``.
Deterministic: the same arguments give byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

from .defects import (
    DatasetDefect,
    FileDefect,
    FileEntry,
    Manifest,
    RowDefect,
    inject_defects,
    load_manifest,
)
from .district import build_district
from .identifiers import is_valid_id, is_valid_uscc
from .members import write_members_csv
from .model import PlantedSignal
from .plan import plan_files
from .signals import SIGNAL_PLANTERS
from .writers import PlannedFile, write_planned

MANIFEST_NAME = "manifest.json"


def _entry(raw_dir: Path, pf: PlannedFile) -> FileEntry:
    sha = write_planned(raw_dir, pf)
    return FileEntry(pf.path, pf.dataset, pf.street_code, pf.fmt.kind, pf.fmt.encoding, pf.row_count, sha)


def generate_district(raw_dir: Path | str, *, scale: float = 1.0, seed: int = 2015, defects: bool = False) -> Manifest:
    """Write every street's 2015 submissions under ``raw_dir/inbox`` and the manifest
    ``raw_dir/manifest.json``; returns the manifest.

    The district always carries the planted warning signals (W01-W09) listed in
    ``Manifest.planted_signals``; defects keep off the files those signals live in."""
    raw_dir = Path(raw_dir)
    district = build_district(seed, scale)
    files = plan_files(district)
    row_defects: list[RowDefect] = []
    file_defects: list[FileDefect] = []
    dataset_defects: list[DatasetDefect] = []
    if defects:
        protected = frozenset((p.area_code, ds) for p in district.planted for ds in p.datasets)
        files, row_defects, file_defects, dataset_defects = inject_defects(files, seed, protected)
    entries = [_entry(raw_dir, pf) for pf in files]  # byte copies come after their originals
    entries.sort(key=lambda e: e.path)
    manifest = Manifest(seed, float(scale), defects, entries, row_defects, file_defects, dataset_defects,
                        list(district.planted))
    manifest.write(raw_dir / MANIFEST_NAME)
    return manifest


__all__ = [
    "MANIFEST_NAME",
    "DatasetDefect",
    "SIGNAL_PLANTERS",
    "FileDefect",
    "FileEntry",
    "Manifest",
    "PlantedSignal",
    "RowDefect",
    "generate_district",
    "is_valid_id",
    "is_valid_uscc",
    "load_manifest",
    "write_members_csv",
]
