"""Which dbt nodes a warehouse build runs: those whose inputs changed since the last one.

A street's new member list changes nothing in the dispute, hotline or contract models;
rebuilding and re-testing them after every drop is most of a small build's time at city
scale. So every build that completes records, in the warehouse itself, what it was built
from (:class:`BuildInputs`: the as-of date, a fingerprint of the dbt project's files and
one fingerprint per dataset of its loaded submissions and their quality verdicts). The
next build compares and runs only:

- every model reading the pipeline's own audit sources (the ingestion ledger, quality
  verdicts and row problems change with every drop): the audit models,
  ``stg_accepted_submissions``, ``indicator_manifest``;
- every model reading the landing data of a dataset whose fingerprint changed (its
  staging door ``stg_landing__<dataset>``, the one model reading the landing source);
- every model downstream of a model that runs, except through a model partitioned by
  dataset (``meta.union.partitioned_by_dataset``: ``stg_accepted_submissions``), whose
  readers only see their own datasets' rows: such a reader runs when one of its datasets
  changed (those whose landing data it reads, itself or through a door, or
  ``meta.union.reads_datasets``: a list of datasets, or ``registries``);
- the tests of the models that run (any parent), but not the tests tagged ``full_scan``
  (uniqueness over the tens of millions of member rows; they run in full builds).

A full build (all nodes) whenever the warehouse holds no record of a completed build,
the as-of date, the project's files or the engine (DuckDB or Spark) differ, or
``--full-refresh`` is asked for; a
full refresh (the incremental models rebuilt from scratch too) when the ID-hashing key
changed, since every stored member hash was made with the other one.
Pure functions over the manifest; the I/O (reading and writing the record, hashing the
inputs) is at the end of the module.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.contract import DATASETS

FULL_SCAN_TAG = "full_scan"
# ``meta.union.reads_datasets: registries``: every registry dataset of the contract
REGISTRIES = "registries"
LANDING_SOURCE = "landing"
# The audit inputs (the ledger, the quality verdicts, the problems files) change with
# every drop, of any dataset, rejected files included: the models reading them run when
# their fingerprint (AUDIT_KEY) changed.
ALWAYS_CHANGED_SOURCES = frozenset({"pipeline_audit", "problems"})
STATE_SCHEMA = "pipeline_state"
STATE_TABLE = f"{STATE_SCHEMA}.warehouse_build_inputs"
PROJECT_KEY = "_project"
AS_OF_KEY = "_as_of_date"
PII_KEY_KEY = "_pii_key"  # a fingerprint of the ID-hashing key, never the key
AUDIT_KEY = "_audit"  # the ledger's bytes and the verdict and problems files
ENGINE_KEY = "_engine"  # the engine dbt built on: duckdb | spark (UNION_WAREHOUSE_TARGET)
# a record made before the engine was recorded is of a DuckDB build
DEFAULT_ENGINE = "duckdb"


@dataclass(frozen=True)
class Node:
    unique_id: str
    name: str
    resource_type: str  # model | seed | test
    parents: tuple[str, ...]  # unique ids of models and seeds it reads
    landing_datasets: frozenset[str] = frozenset()  # landing sources it reads directly
    reads_always_changed: bool = False
    partitioned_by_dataset: bool = False
    reads_datasets: frozenset[str] | None = None  # declared scope of a hub reader
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DbtGraph:
    nodes: dict[str, Node]

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> DbtGraph:
        sources = manifest.get("sources", {})
        nodes: dict[str, Node] = {}
        for uid, raw in manifest["nodes"].items():
            kind = raw["resource_type"]
            if kind not in ("model", "seed", "test"):
                continue
            deps = raw.get("depends_on", {}).get("nodes", [])
            meta = {**(raw.get("meta") or {}), **((raw.get("config") or {}).get("meta") or {})}.get("union", {})
            landing = frozenset(sources[d]["name"] for d in deps
                                if d in sources and sources[d]["source_name"] == LANDING_SOURCE)
            always = any(d in sources and sources[d]["source_name"] in ALWAYS_CHANGED_SOURCES for d in deps)
            declared = meta.get("reads_datasets")
            if declared == REGISTRIES:
                declared = [d.name for d in DATASETS if d.is_registry]
            nodes[uid] = Node(
                unique_id=uid, name=raw["name"], resource_type=kind,
                parents=tuple(d for d in deps if d.startswith(("model.", "seed."))),
                landing_datasets=landing, reads_always_changed=always,
                partitioned_by_dataset=bool(meta.get("partitioned_by_dataset")),
                reads_datasets=frozenset(declared) if declared is not None else None,
                tags=frozenset(raw.get("tags") or []) | frozenset((raw.get("config") or {}).get("tags") or []),
            )
        return cls(nodes)

    def landing_scope(self, node: Node) -> frozenset[str]:
        """The datasets whose landing rows ``node`` reads: directly, or through a staging
        door (``stg_landing__<dataset>``, a model that reads one landing source and no
        other model)."""
        scope = set(node.landing_datasets)
        for parent_id in node.parents:
            parent = self.nodes.get(parent_id)
            if parent is not None and parent.landing_datasets and not parent.parents:
                scope |= parent.landing_datasets
        return frozenset(scope)

    def models_in_order(self) -> list[Node]:
        """Models, parents before children."""
        order: list[Node] = []
        seen: set[str] = set()

        def visit(uid: str) -> None:
            if uid in seen or uid not in self.nodes:
                return
            seen.add(uid)
            for parent in self.nodes[uid].parents:
                visit(parent)
            if self.nodes[uid].resource_type == "model":
                order.append(self.nodes[uid])

        for uid in sorted(self.nodes):
            visit(uid)
        return order


@dataclass(frozen=True)
class BuildPlan:
    full: bool
    reason: str
    full_refresh: bool = False  # rebuild the incremental models from scratch too
    changed_datasets: frozenset[str] = frozenset()
    run: frozenset[str] = frozenset()  # unique ids (models and tests) that run
    excluded: tuple[str, ...] = ()  # names for dbt --exclude
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        if self.full:
            return f"full build ({self.reason})"
        changed = ", ".join(sorted(self.changed_datasets)) or "none"
        return (f"incremental build: datasets changed since the last build: {changed}; running "
                f"{self.counts.get('models_run', 0)} of {self.counts.get('models', 0)} models and "
                f"{self.counts.get('tests_run', 0)} of {self.counts.get('tests', 0)} tests")


def models_to_run(graph: DbtGraph, changed: frozenset[str], audit_changed: bool = True) -> set[str]:
    """Unique ids of the models a build must run when ``changed`` datasets' inputs changed
    (and, with ``audit_changed``, the audit inputs)."""
    run: set[str] = set()
    for node in graph.models_in_order():
        scope = node.reads_datasets if node.reads_datasets is not None else graph.landing_scope(node)
        needed = (node.reads_always_changed and audit_changed) or bool(node.landing_datasets & changed)
        for parent_id in node.parents:
            if needed or parent_id not in run:
                continue
            parent = graph.nodes[parent_id]
            # a dataset-partitioned parent changed only in the changed datasets' rows; a reader
            # with no known scope is rebuilt to be safe
            needed = not parent.partitioned_by_dataset or not scope or bool(scope & changed)
        if needed:
            run.add(node.unique_id)
    return run


def plan_incremental(graph: DbtGraph, changed: frozenset[str], audit_changed: bool = True) -> BuildPlan:
    models = models_to_run(graph, changed, audit_changed)
    tests = {
        n.unique_id for n in graph.nodes.values()
        if n.resource_type == "test" and FULL_SCAN_TAG not in n.tags and any(p in models for p in n.parents)
    }
    run = frozenset(models | tests)
    excluded = tuple(sorted(n.name for n in graph.nodes.values() if n.unique_id not in run))
    counts = {
        "models": sum(1 for n in graph.nodes.values() if n.resource_type == "model"),
        "tests": sum(1 for n in graph.nodes.values() if n.resource_type == "test"),
        "models_run": len(models), "tests_run": len(tests),
    }
    return BuildPlan(False, "inputs changed in some datasets", changed_datasets=changed, run=run,
                     excluded=excluded, counts=counts)


def plan_build(graph: DbtGraph, previous: Mapping[str, str] | None, current: Mapping[str, str],
               *, full_refresh: bool = False) -> BuildPlan:
    """The plan for a build whose inputs are ``current`` (see :func:`build_inputs`) after a
    build that recorded ``previous`` (None: no record)."""
    if full_refresh:
        return BuildPlan(True, "full refresh asked for", full_refresh=True)
    if previous is None:
        return BuildPlan(True, "no completed build recorded in this warehouse")
    if previous.get(PII_KEY_KEY) != current.get(PII_KEY_KEY):
        # every stored hash was made with the other key: rebuilt from scratch, or the
        # incremental member tables would mix the two and split every person in two
        return BuildPlan(True, "the ID-hashing key changed: every member hash is recomputed", full_refresh=True)
    for key, what in ((AS_OF_KEY, "as-of date"), (PROJECT_KEY, "dbt project")):
        if previous.get(key) != current.get(key):
            return BuildPlan(True, f"the {what} changed since the last build")
    # the other engine's tables were not built from the same inputs: the working file holds
    # one engine's tables (a Spark build mirrors its own into it), rebuilt whole on a switch
    if previous.get(ENGINE_KEY, DEFAULT_ENGINE) != current.get(ENGINE_KEY, DEFAULT_ENGINE):
        return BuildPlan(True, f"the warehouse engine changed since the last build "
                               f"({previous.get(ENGINE_KEY, DEFAULT_ENGINE)} -> {current.get(ENGINE_KEY, DEFAULT_ENGINE)})")
    datasets = {k for k in current if not k.startswith("_")} | {k for k in previous if not k.startswith("_")}
    changed = frozenset(d for d in datasets if previous.get(d) != current.get(d))
    return plan_incremental(graph, changed, previous.get(AUDIT_KEY) != current.get(AUDIT_KEY))


# --- fingerprints of the inputs -----------------------------------------------------------


def _digest(parts: Iterable[str]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def project_fingerprint(project_dir: Path, inputs: Iterable[str]) -> str:
    """Content hash of the dbt project's files (models, macros, seeds, tests, config)."""
    parts: list[str] = []
    for name in sorted(inputs):
        path = project_dir / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            parts.append(f"{f.relative_to(project_dir)}:{hashlib.sha256(f.read_bytes()).hexdigest()}")
    return _digest(parts)


def dataset_fingerprints(submissions: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``(dataset, description of one loaded submission and its verdict)`` -> one
    fingerprint per dataset, independent of order."""
    by_dataset: dict[str, list[str]] = {}
    for dataset, described in submissions:
        by_dataset.setdefault(dataset, []).append(described)
    return {d: _digest(sorted(parts)) for d, parts in by_dataset.items()}


def key_fingerprint(pii_key: str) -> str:
    """Tells one hashing key from another without revealing it (a salted digest)."""
    return hashlib.sha256(f"union-warehouse build record|{pii_key}".encode()).hexdigest()[:16]


def build_inputs(as_of: str, project: str, datasets: Mapping[str, str], pii_key: str,
                 audit: str = "", engine: str = DEFAULT_ENGINE) -> dict[str, str]:
    out = {AS_OF_KEY: as_of, PROJECT_KEY: project, PII_KEY_KEY: key_fingerprint(pii_key),
           ENGINE_KEY: engine, **datasets}
    if audit:
        out[AUDIT_KEY] = audit
    return out


def inputs_json(inputs: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(inputs.items())))
