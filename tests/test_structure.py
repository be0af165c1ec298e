"""The package's shape: no import cycle between its modules, a public API that shows its
signatures, and no TensorFlow behind ``import zoo``."""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import pytest

import zoo

from conftest import ROOT

PACKAGES = ("zoo", "applications")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str], root: Path = ROOT) -> set[str]:
    """Every project module ``path`` imports, at its top or inside functions: ``from zoo import
    registry`` is an edge to ``zoo.registry``, ``from zoo import __version__`` one to ``zoo``."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {module for module in found if module in modules and module != name}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the project modules it imports, over zoo/**/*.py and applications/**/*.py.
    ``zoo/__init__``'s lazily imported public functions count as imports of their modules."""
    paths = [path for package in PACKAGES for path in sorted((root / package).rglob("*.py"))]
    modules = {module_name(path, root) for path in paths}
    graph = {module_name(path, root): imported_modules(path, modules, root) for path in paths}
    graph["zoo"] |= set(zoo.LAZY_FUNCTIONS.values())
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, str] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        trail.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return trail[trail.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        trail.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert {"zoo.models", "zoo.weights.cache", "zoo.classics.train", "applications.classic"} <= set(
        graph
    )
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_check_finds_a_new_cycle(tmp_path):
    for package in PACKAGES:  # a copy of the package with one import added that closes a loop
        for path in (ROOT / package).rglob("*.py"):
            target = tmp_path / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(path.read_text())
    hashing = tmp_path / "zoo" / "hashing.py"
    hashing.write_text(
        hashing.read_text() + "\n\ndef _late():\n    from zoo.weights.cache import fetch\n"
    )
    cycle = find_cycle(import_graph(tmp_path))
    assert cycle is not None and {"zoo.hashing", "zoo.weights.cache"} <= set(cycle)
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_no_module_imports_the_package_root():
    """Inside the package, ``from zoo import X`` names a submodule: importing the package root
    would run its lazy public functions' imports from inside the package."""
    graph = import_graph()
    importers = sorted(module for module, targets in graph.items() if "zoo" in targets)
    assert importers == []


@pytest.mark.parametrize("name", sorted(zoo.LAZY_FUNCTIONS))
def test_public_functions_show_their_real_signatures(name):
    function = getattr(zoo, name)
    assert function.__module__ == zoo.LAZY_FUNCTIONS[name]
    parameters = inspect.signature(function).parameters
    assert "options" not in parameters
    assert function.__doc__ and "Example" in function.__doc__
    assert name in dir(zoo) and name in zoo.__all__


def test_load_signature_is_typed():
    signature = inspect.signature(zoo.load)
    assert list(signature.parameters)[:3] == ["name", "weights", "include_top"]
    assert signature.parameters["num_classes"].annotation == "int | None"
    assert signature.return_annotation == "keras.Model"
    with pytest.raises(AttributeError, match="no attribute 'lod'"):
        zoo.lod  # noqa: B018


#: The longest a module and a function (its docstring not counted) may be.
MODULE_LINES, FUNCTION_LINES = 500, 80
#: A function's docstring saying this may make it longer: it says why it must be one piece.
ONE_PIECE = "must be one piece"


def _sources(root: Path = ROOT) -> list[Path]:
    return [path for package in PACKAGES for path in sorted((root / package).rglob("*.py"))]


def long_functions(path: Path) -> list[str]:
    """``module:line name (N lines)`` of each function of ``path`` longer than
    ``FUNCTION_LINES`` without its docstring, unless the docstring says ``ONE_PIECE``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        lines = node.end_lineno - node.lineno + 1
        docstring = ast.get_docstring(node) or ""
        first = node.body[0]
        if docstring and isinstance(first, ast.Expr):
            lines -= first.end_lineno - first.lineno + 1
        if lines > FUNCTION_LINES and ONE_PIECE not in docstring:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_module_is_longer_than_500_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _sources()
        if (lines := len(path.read_text().splitlines())) > MODULE_LINES
    }
    assert long == {}


def test_no_function_is_longer_than_80_lines():
    assert [entry for path in _sources() for entry in long_functions(path)] == []


def test_the_length_check_finds_a_long_function(tmp_path, monkeypatch):
    body = "".join(f"    x{i} = {i}\n" for i in range(FUNCTION_LINES))
    source = tmp_path / "long.py"
    source.write_text(f'def long():\n    """Many lines."""\n{body}\n\ndef short():\n    pass\n')
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert long_functions(source) == [f"long.py:1 long ({FUNCTION_LINES + 1} lines)"]
    source.write_text(f'def long():\n    """This {ONE_PIECE}: a table."""\n{body}')
    assert long_functions(source) == []


def test_every_subpackage_has_a_docstring_and_a_test_folder():
    packages = sorted(p.parent for p in (ROOT / "zoo").glob("*/__init__.py"))
    assert {p.name for p in packages} >= {"weights", "inputs", "engines", "training", "cli"}
    for package in packages:
        assert ast.get_docstring(ast.parse((package / "__init__.py").read_text())), package
        tests = ROOT / "tests" / package.name
        assert tests.is_dir() and list(tests.glob("test_*.py")), f"no tests/{package.name}/"
    test_folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir()} - {"data"}
    assert test_folders <= {p.name for p in packages} | {"__pycache__"}


def test_the_layering_contract_covers_every_module():
    """``pyproject.toml``'s import-linter layers name every top-level module and package of
    zoo/ (``exhaustive``), and the architecture document draws the same layers."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["type"] == "layers"]
    assert layers["exhaustive"] is True
    named = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    present = {p.stem for p in (ROOT / "zoo").glob("*.py")} | {
        p.parent.name for p in (ROOT / "zoo").glob("*/__init__.py")
    }
    assert present - {"__init__", "__main__"} == named
    drawn = (ROOT / "docs" / "architecture.md").read_text()
    for layer in layers["layers"]:
        assert layer in drawn, layer
