"""Resources: every outside thing the assets touch, so tests can swap it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.config import Settings


class UnionPaths(dg.ConfigurableResource):
    """The drop zone and the data directory (``UNION_RAW_DIR`` / ``UNION_DATA_DIR``)."""

    raw_dir: str
    data_dir: str
    max_file_bytes: int = Settings.max_file_bytes

    @classmethod
    def from_settings(cls, s: Settings) -> UnionPaths:
        return cls(raw_dir=str(s.raw_dir), data_dir=str(s.data_dir), max_file_bytes=s.max_file_bytes)

    def settings(self) -> Settings:
        base = Settings.from_env()
        return Settings(
            raw_dir=Path(self.raw_dir),
            data_dir=Path(self.data_dir),
            pii_key=base.pii_key,
            max_file_bytes=self.max_file_bytes,
        )


class AsOf(dg.ConfigurableResource):
    """The date indicators, warnings and freshness are evaluated as of (default: today)."""

    as_of: str = ""

    def date(self):  # type: ignore[no-untyped-def]
        from datetime import date

        return date.fromisoformat(self.as_of) if self.as_of else date.today()

    def configured(self):  # type: ignore[no-untyped-def]
        """The date the run was configured with, or None (today's, as each step sees it)."""
        from datetime import date

        return date.fromisoformat(self.as_of) if self.as_of else None
