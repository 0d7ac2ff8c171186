"""Each layer imports only the layers below it (docs/architecture.md).

Read from the source with ``ast`` (top-level and function-level imports alike), so a
lazy import inside a function counts too."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"

# package (or top-level module) -> layer; a package may import any lower layer
LAYERS = {
    "files": 0,  # locks and atomic writes: imports nothing from pipelines
    "config": 1, "faults": 1, "disk": 1, "jsonl": 1, "spreadsheet": 1, "alert_state": 1,
    "contract": 2,
    "rules": 3,
    "ingest": 4,
    "quality": 5,
    "warehouse": 6, "feedback": 6, "alerts": 6, "publish": 6,
    "export": 7,
    "orchestration": 8,
    "definitions": 9, "sync": 9, "status": 9,
    "cli": 10,
    "generate": 4,  # the synthetic district: the contract and the rules only
}
# Edges that break the rule today, each with the issue that removes it. The test also
# fails when one of them is gone, so the list never outlives the fix.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def imports() -> set[tuple[str, str, str]]:
    """(importing package, imported package, file) for every ``pipelines.*`` import
    that crosses packages."""
    out: set[tuple[str, str, str]] = set()
    for path in PIPELINES.rglob("*.py"):
        rel = path.relative_to(PIPELINES)
        src = rel.parts[0].removesuffix(".py")
        if src == "__init__":
            continue
        package = ["pipelines", *rel.parts[:-1]]  # what a relative import starts from
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.ImportFrom) and node.level > 0:
                base = package[: len(package) - node.level + 1]
                names = ([".".join([*base, node.module])] if node.module
                         else [".".join([*base, a.name]) for a in node.names])
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "pipelines" and len(parts) > 1 and parts[1] != src:
                    out.add((src, parts[1], rel.as_posix()))
    return out


def test_every_package_has_a_layer() -> None:
    packages = {p.name.removesuffix(".py") for p in PIPELINES.iterdir()
                if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert packages == set(LAYERS)


def test_each_layer_imports_only_the_layers_below_it() -> None:
    upward = {(src, dst, f) for src, dst, f in imports()
              if dst in LAYERS and LAYERS[dst] >= LAYERS[src] and (src, dst) not in KNOWN_EXCEPTIONS}
    assert upward == set(), "imports that point up or sideways (docs/architecture.md)"


def test_the_known_exceptions_still_exist() -> None:
    edges = {(src, dst) for src, dst, _ in imports()}
    assert set(KNOWN_EXCEPTIONS) <= edges, "an exception was fixed: remove it from KNOWN_EXCEPTIONS"


def test_importing_the_alerts_does_not_import_great_expectations() -> None:
    """The alerts read the quality verdicts (``quality/verdicts.py``), never the GX runner:
    whatever touches alerts (the run-failure sensor, the CLI's alert lines) stays light."""
    code = "import pipelines.alerts, sys; assert 'great_expectations' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PIPELINES.parent)


def _module_graph() -> dict[str, set[str]]:
    """Module -> the ``pipelines`` modules it imports (lazy imports included)."""
    files = {".".join(p.relative_to(PIPELINES.parent).with_suffix("").parts).removesuffix(".__init__"): p
             for p in PIPELINES.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                deps |= {m for m in (module, *(f"{module}.{a.name}" for a in node.names)) if m in files}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in files}
        graph[name] = deps - {name}
    return graph


def test_no_modules_import_each_other_in_a_circle() -> None:
    graph = _module_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                circles.append([*path[path.index(dep):], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == [], "modules that import each other (a deferred import counts too)"


def test_every_environment_variable_the_code_reads_is_in_the_readmes_one_table() -> None:
    """An operator finds each ``UNION_*`` variable the pipeline (or the dbt profile) reads
    in the README's configuration table, once; the table names no variable nothing reads."""
    import re

    root = Path(__file__).resolve().parents[1]
    sources = [*(root / "pipelines").rglob("*.py"), root / "dbt_project" / "profiles.yml"]
    read = {m for f in sources for m in re.findall(r"[\"'](UNION_[A-Z_]+)[\"']", f.read_text(encoding="utf-8"))}
    readme = (root / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"`(UNION_[A-Z_]+)`", table)
    assert len(read) > 30
    assert sorted(v for v in read if listed.count(v) != 1) == []
    assert set(listed) <= read, sorted(set(listed) - read)
