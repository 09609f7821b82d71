"""No import cycle between the project's modules, and loading stays in its layers.

Every .py under zoo/, training/, demos/, bench/ (and hubconf.py, app.py) is read with ``ast``, nothing is imported.
An import counts wherever it is written (inside a function too: such an import is a back edge hidden until the
function runs); relative imports are resolved; ``from pkg import sub`` counts as importing ``pkg.sub``; importing
``pkg.sub.mod`` counts ``pkg.sub`` too, since Python runs the package's ``__init__`` first. A module's own
ancestors are not counted: Python has initialised them before the module runs. (``/work/shared/hooks/structure.py``
prints the same graph's cycles; this test fails on them.)
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("zoo", "training", "demos", "bench")
SCRIPTS = ("hubconf.py", "app.py")

# Loading, bottom to top: a module imports only modules of its own layer or the layers below.
LAYERS = (
    ("zoo.basics", "zoo.catalog", "zoo.models"),  # shared names (no torch); what the zoo holds; the architectures
    ("zoo.config", "zoo.checkpoint_io"),  # config.json's schema; a checkpoint folder read and written
    ("zoo.hub", "zoo.submissions"),  # the HF Hub; the gates, the results store, the evaluation queue
    ("zoo.sources",),  # which checkpoint a name means: zoo.load
    ("zoo.leaderboard",),  # typed rows, ranked, the zoo's beside the submissions
    ("zoo.__main__", "zoo"),  # the CLI, and the package's front door
)


def project_modules(root: Path, packages=PACKAGES, scripts=SCRIPTS) -> dict[str, Path]:
    """Module name -> file, for every .py of the packages and the top-level scripts."""
    found = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            if "__pycache__" not in path.parts:
                name = ".".join(path.relative_to(root).with_suffix("").parts)
                found[name.removesuffix(".__init__")] = path
    for script in scripts:
        if (root / script).is_file():
            found[script.removesuffix(".py")] = root / script
    return found


def imported_modules(name: str, path: Path, modules: set[str]) -> set[str]:
    """The project modules that running ``name`` (all of it, its functions included) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([node.module] if node.module else [])])
            targets += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    out = set()
    for target in targets:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):  # the module and every package above it
            t = ".".join(parts[:i])
            if t in modules and t != name and not name.startswith(t + "."):
                out.add(t)
    return out


def import_graph(root: Path = ROOT, **where) -> dict[str, set[str]]:
    modules = project_modules(root, **where)
    return {name: imported_modules(name, path, set(modules)) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per knot of mutually importing modules (a strongly connected component), as the path
    ``[a, b, ..., a]`` through it that starts at its first module by name."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    knots = []
    for start in sorted(graph):  # Tarjan's algorithm, iteratively
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, edges = work[-1]
            w = next(edges, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                knot = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    knot.add(w)
                    if w == v:
                        break
                if len(knot) > 1 or v in graph.get(v, ()):
                    knots.append(knot)
    return sorted(_path_through(graph, knot) for knot in knots)


def _path_through(graph: dict[str, set[str]], knot: set[str]) -> list[str]:
    """The shortest way from the knot's first module back to itself, inside the knot."""
    first = min(knot)
    came_from: dict[str, str] = {}
    frontier = [first]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph.get(v, ()) & knot):
                if w == first:
                    path = [v]
                    while path[-1] != first:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), first]
                if w not in came_from:
                    came_from[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"{sorted(knot)} is not a cycle")


def _layer(module: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in layer if m != "zoo"):
            return i
    return len(LAYERS) - 1 if module == "zoo" else None


# -------------------------------------------------------------------------------------------- tests
def test_no_import_cycle_between_project_modules():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_loading_imports_only_downward():
    upward = [
        f"{a} (layer {_layer(a)}) imports {b} (layer {_layer(b)})"
        for a, imports in sorted(import_graph().items())
        for b in sorted(imports)
        if _layer(a) is not None and _layer(b) is not None and _layer(b) > _layer(a)
    ]
    assert not upward, "\n".join(upward)


def test_the_graph_is_read_from_the_real_files():
    graph = import_graph()
    assert {"zoo.hub", "zoo.checkpoint_io", "zoo.submissions.store", "zoo.submissions"} <= graph["zoo.sources"]
    assert {"zoo.submissions.store", "zoo.hub"} <= graph["zoo.leaderboard"]
    assert "zoo.sources" in graph["hubconf"] and "zoo.sources" in graph["zoo"]
    assert not graph["zoo.config"] & {"zoo.hub", "zoo.sources", "zoo.leaderboard", "zoo.submissions"}


def test_the_cycle_finder_names_a_planted_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a"}}) == []
    assert find_cycles({"b": {"c"}, "c": {"a"}, "a": {"b"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    two = {"x": {"y"}, "y": {"x", "z"}, "z": {"w"}, "w": {"z"}, "s": {"s"}}
    assert find_cycles(two) == [["s", "s"], ["w", "z", "w"], ["x", "y", "x"]]


def test_the_reader_counts_hidden_relative_and_package_imports(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/low.py": "def f():\n    from .high import g  # hidden in a function, relative\n",
        "pkg/high.py": "from pkg import low  # a submodule by from-import\n\ndef g(): ...\n",
        "pkg/sub/__init__.py": "from ..mid import x\n",
        "pkg/sub/leaf.py": "from .. import low  # its own ancestor pkg is not an edge\n",
        "pkg/mid.py": "import pkg.sub.leaf  # runs pkg/sub/__init__.py first\nx = 1\n",
        "other/__init__.py": "",
        "other/user.py": "import pkg.high\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    graph = import_graph(tmp_path, packages=("pkg", "other"), scripts=())
    assert graph["pkg.sub.leaf"] == {"pkg.low"}
    assert graph["other.user"] == {"pkg", "pkg.high"}
    assert find_cycles(graph) == [["pkg.high", "pkg.low", "pkg.high"], ["pkg.mid", "pkg.sub", "pkg.mid"]]
