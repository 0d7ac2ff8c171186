from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(raw_dir=tmp_path / "raw", data_dir=tmp_path / "data", pii_key="test-key")
    s.inbox.mkdir(parents=True)
    return s


def drop(settings: Settings, street: str, dataset: str, name: str, content: bytes | str,
         encoding: str = "utf-8") -> Path:
    """Put a file in the drop zone as a street would."""
    p = settings.inbox / street / dataset / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return p
