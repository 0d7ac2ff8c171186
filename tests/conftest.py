from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.config import Settings

# Spark in session mode (tests/test_spark.py and the runs it starts) without code
# generation: on a district's few thousand rows compiling Java for every query costs more
# than it saves (dbt_project/profiles.yml). The Thrift server the tests start keeps
# Spark's default, so both paths are exercised.
os.environ.setdefault("UNION_SPARK_CODEGEN", "false")

# The modules that take minutes (whole pipeline runs), longest first. The suite runs on
# two workers, a module per worker at a time (pytest-xdist --dist loadfile, pyproject):
# started first, they overlap with each other and with the quick modules, instead of
# one of them starting last and leaving a worker idle at the end.
LONG_FIRST = (
    "test_spark.py",  # two whole runs side by side, one on Spark, then incremental on Spark
    "test_state_faults.py",
    "test_crash_safety.py",
    "test_run_exclusive.py",
    "test_instance_postgres.py",
    "test_alerts_pipeline.py",
    "test_publish_determinism.py",
    "test_dbt_models.py",
    "test_indicators.py",
    "test_pipeline_end_to_end.py",
    "test_hostile_campaign.py",
    "test_file_names_no_pii.py",
)


def pytest_collection(session: pytest.Session) -> None:
    """Prepare the dbt manifest once, before any test module loads the Dagster definitions
    (which only read it, as a code server does: pipelines/orchestration/dbt.py). Each
    xdist worker calls it before collecting; under its file lock the first parses (when
    the manifest is missing or stale) and the other finds it current."""
    from pipelines.orchestration.dbt import prepare_manifest

    prepare_manifest()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


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
