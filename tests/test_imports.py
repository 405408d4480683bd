"""The import graph of our packages has no cycles: not between packages, nor between the modules of one.

Read statically (``ast``), so that an import inside a function, which Python resolves only when the
function runs and which therefore hides a cycle from an ordinary import, counts like one at the top of a
module. Imports under ``if TYPE_CHECKING:`` count too: a cycle in the types is a cycle in the design.
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("detector", "streams", "api", "alerts", "sitewatch")
#: Which package may import which: each only those after it (a cycle needs an edge back).
LAYERS = ("sitewatch", "api", "alerts", "streams", "detector")
#: The detector's offline code (making and measuring models): the rest of ``detector``, the runtime that
#: edge boxes run, must not import it.
OFFLINE = ("detector.training", "detector.evaluation")


def modules() -> dict[str, tuple[Path, bool]]:
    """Every module of our packages by dotted name, with its file and whether it is a package."""
    found: dict[str, tuple[Path, bool]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join(parts)] = (path, is_package)
    return found


def imports(known: dict[str, tuple[Path, bool]]) -> dict[str, dict[str, int]]:
    """For each module, the modules of ours it imports, each with the line of its first import."""
    graph: dict[str, dict[str, int]] = defaultdict(dict)

    def ours(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    for name, (path, is_package) in known.items():
        package = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([node.module] if node.module else [])])
                # ``from pkg import mod`` imports the module ``pkg.mod``; ``from mod import name``, ``mod``.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            for target in targets:
                module = ours(target)
                if module is not None and module != name:
                    graph[name].setdefault(module, node.lineno)
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as the list of its nodes (the first repeated at the end), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_walk_sees_imports_inside_functions() -> None:
    graph = imports(modules())
    assert graph, "no imports found: the walk is broken"
    # sitewatch's command imports the engine only when a command needs it.
    assert any(target.startswith("detector") for target in graph["sitewatch.cli.detection"])


def test_no_cycle_between_packages() -> None:
    graph = imports(modules())
    packages: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], str] = {}
    for source, targets in graph.items():
        for target, line in targets.items():
            edge = (source.split(".")[0], target.split(".")[0])
            if edge[0] != edge[1]:
                packages[edge[0]].add(edge[1])
                where.setdefault(edge, f"{source} -> {target} (line {line})")
    found = cycle(packages)
    assert found is None, (
        "package cycle "
        + " -> ".join(found)
        + ": "
        + "; ".join(where[(a, b)] for a, b in itertools.pairwise(found))
    )
    upward = {edge: at for edge, at in where.items() if LAYERS.index(edge[0]) > LAYERS.index(edge[1])}
    assert not upward, f"imports against the layers {LAYERS}: {sorted(upward.values())}"


def test_no_cycle_between_modules_of_a_package() -> None:
    graph = imports(modules())
    inside = {
        source: {t for t in targets if t.split(".")[0] == source.split(".")[0]}
        for source, targets in graph.items()
    }
    found = cycle(inside)
    assert found is None, "module cycle " + " -> ".join(
        f"{a} (line {graph[a][b]})" for a, b in itertools.pairwise(found)
    )


#: The domain packages of ``api`` from the bottom up: each imports only those before it. ``api.app``, the
#: composition root, and ``api.migrations`` (the Alembic scripts, which read the tables) stand above all.
API_LAYERS = (
    "models",
    "core",
    "storage",
    "http",
    "access",
    "notifications",
    "sites",
    "projects",
    "officers",
    "cases",
    "events",
    "ingest",
    "delivery",
    "analysis",
    "reports",
    "ops",
    "app",
    "migrations",
)


def domain(module: str) -> str:
    """The ``api`` package (or root module) that ``module`` belongs to: ``api.cases.router`` -> ``cases``."""
    return module.split(".")[1]


def test_api_domains_import_only_the_layers_below() -> None:
    graph = imports(modules())
    found = {m.split(".")[1] for m in modules() if m.startswith("api.")}
    assert found == set(API_LAYERS), (
        f"api packages not placed in API_LAYERS: {sorted(found ^ set(API_LAYERS))}"
    )
    upward = sorted(
        f"{source} -> {target} (line {line})"
        for source, targets in graph.items()
        if source.startswith("api.")
        for target, line in targets.items()
        if target.startswith("api.") and API_LAYERS.index(domain(source)) < API_LAYERS.index(domain(target))
    )
    assert not upward, f"imports against the api layers {API_LAYERS}: {upward}"


def test_api_root_holds_domain_packages_only() -> None:
    # A new module goes into the package that owns the table it writes (README, "Where a new file goes"):
    # flat files with a shared prefix at the root were packages in all but name.
    loose = sorted(p.name for p in (ROOT / "api").glob("*.py") if p.name not in {"__init__.py", "app.py"})
    assert not loose, f"modules at the root of api/: {loose}"


def is_offline(module: str) -> bool:
    """Whether ``module`` is (in) one of the :data:`OFFLINE` packages."""
    return any(module == package or module.startswith(package + ".") for package in OFFLINE)


def runtime_imports_of_offline_code(graph: dict[str, dict[str, int]]) -> list[str]:
    """Each import of offline code by a module of the detector's runtime, as ``source -> target (line N)``."""
    return sorted(
        f"{source} -> {target} (line {line})"
        for source, targets in graph.items()
        if source.split(".")[0] == "detector" and not is_offline(source)
        for target, line in targets.items()
        if is_offline(target)
    )


def test_the_detector_runtime_does_not_import_offline_code() -> None:
    graph = imports(modules())
    assert any(is_offline(name) for name in modules()), f"none of {OFFLINE} found: the check is vacuous"
    found = runtime_imports_of_offline_code(graph)
    assert not found, f"the detector's runtime imports offline code {OFFLINE}: {found}"


def test_the_offline_check_sees_a_runtime_import_of_offline_code() -> None:
    graph = {
        "detector": {"detector.evaluation.figures": 1},
        "detector.engine": {"detector.training.dataset": 3, "detector.ppe": 4},
        "detector.training.quantize": {"detector.backends.onnx_runtime": 2},
        "detector.evaluation.alarms": {"detector.training.dataset": 5},
        "sitewatch.cli.training": {"detector.training.train": 6},
    }
    assert runtime_imports_of_offline_code(graph) == [
        "detector -> detector.evaluation.figures (line 1)",
        "detector.engine -> detector.training.dataset (line 3)",
    ]
