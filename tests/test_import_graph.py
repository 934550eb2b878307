"""The layers of the code, checked from its imports (read with ast; nothing is imported).

engine.core is the floor: it imports nothing else of the project. knowledge_base and verifiers import nothing of the
engine but engine.core. No two files import each other through any chain, and no two packages do (a package here is
the folder a file sits in: engine.core, engine.models, engine.safety, engine (its top files), verifiers,
verifiers.verifier_training, ...). Project imports sit at the top of files, where a reader sees them."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "knowledge_base", "verifiers", "ui")


def _modules() -> dict[str, Path]:
    found = {}
    for top in PACKAGES:
        for path in (REPO / top).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _target(name: str) -> str | None:
    """The project module an imported name lives in (the longest module prefix of it)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


def _imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, at module level) for every import in a file."""
    tree = ast.parse(MODULES[module].read_text(), str(MODULES[module]))
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # `if TYPE_CHECKING:` blocks count as the top of the file
        if isinstance(node, ast.If):
            top_level |= {id(child) for child in node.body}
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            target = _target(name)
            if target and target != module:
                out.append((target, node.lineno, id(node) in top_level))
    return out


EDGES = {module: _imports(module) for module in MODULES}


def _package(module: str) -> str:
    return module if _is_package(module) else module.rpartition(".")[0] or module


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_two_files_import_each_other():
    graph = {module: {target for target, _, _ in edges if not _is_package(target) or target == _package(module)}
             for module, edges in EDGES.items()}
    assert _cycles(graph) == []


def test_no_two_packages_import_each_other():
    graph: dict[str, set[str]] = {}
    for module, edges in EDGES.items():
        for target, _, _ in edges:
            if _package(target) != _package(module):
                graph.setdefault(_package(module), set()).add(_package(target))
    assert _cycles(graph) == []


def test_the_floor_imports_nothing_above_it():
    wrong = [(m, t, line) for m, edges in EDGES.items() if m.startswith("engine.core")
             for t, line, _ in edges if not t.startswith("engine.core")]
    assert wrong == []


def test_knowledge_base_and_verifiers_take_only_the_core_from_the_engine():
    wrong = [(m, t, line) for m, edges in EDGES.items() if m.split(".")[0] in ("knowledge_base", "verifiers")
             for t, line, _ in edges if t.split(".")[0] == "engine" and not t.startswith("engine.core")]
    assert wrong == []


def test_project_imports_sit_at_the_top_of_files():
    hidden = [f"{MODULES[m].relative_to(REPO)}:{line} imports {t}" for m, edges in EDGES.items()
              for t, line, top in edges if not top]
    assert hidden == []
