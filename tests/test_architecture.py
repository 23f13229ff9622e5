"""The shape of the package, as a specification: layered sub-packages whose imports run one way.

`lint-imports` checks the layers contract in pyproject.toml (import-linter: a layer may import the
layers below it, never one above). The other tests read the source: no cycle among the modules'
imports, and the package's own modules imported inside functions only by the documented lazy
facades (Problem.solve, Solution.to_dict/render), which is how the contract's two ignored imports
arise. (The command group imports each command's module by name when the command is run, within the
cli layer: tests/test_cli.py checks that every command module is one of its commands; and the
package imports each public name's module when the name is first used, PEP 562.)
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symbackprop"
SUB_PACKAGES = {"arithmetic", "model", "parsing", "engine", "printing", "check", "study", "homework", "cli"}
#: (module, imported module) pairs allowed inside a function: the lazy facades.
FACADES = {("symbackprop.model.problem", "symbackprop.engine.solution"),
           ("symbackprop.engine.solution", "symbackprop.printing")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module of the package, whether the import is inside a function), leaving out
    imports only for type checkers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    checking = {id(n) for node in ast.walk(tree)
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                for n in ast.walk(node)}
    inside = {id(n) for node in ast.walk(tree)
              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level and id(node) not in checking:
            base = package.split(".")[:len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            # `from . import numeric` imports the module numeric, not only its package.
            found += [(f"{target}.{a.name}" if f"{target}.{a.name}" in _all_modules() else target,
                       id(node) in inside) for a in node.names]
        elif isinstance(node, ast.Import) and id(node) not in checking:
            found += [(a.name, id(node) in inside) for a in node.names if a.name.startswith("symbackprop")]
    return found


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _all_modules() -> dict[str, Path]:
    return MODULES


def test_the_package_is_in_layered_sub_packages():
    found = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert found == SUB_PACKAGES
    flat = sorted(p.name for p in PACKAGE.glob("*.py"))
    # The entry point (python -m symbackprop) and the bottom floor: errors, the time budget, files.
    assert flat == ["__init__.py", "__main__.py", "budget.py", "errors.py", "resources.py"]


def test_imports_inside_functions_are_only_the_lazy_facades():
    inside = [(module, target) for module, path in MODULES.items()
              for target, in_function in _imports(path) if in_function]
    assert set(inside) == FACADES and len(inside) <= 3, inside


def test_module_level_imports_have_no_cycle():
    graph = {module: {target for target, in_function in _imports(path)
                      if not in_function and target in MODULES and target != module}
             for module, path in MODULES.items()}
    # A package's __init__ importing its own modules is how packages work, not a cycle.
    for module in graph:
        graph[module] = {t for t in graph[module] if not module.startswith(t + ".")}
    visiting, done = set(), set()

    def visit(module, trail):
        if module in done:
            return
        assert module not in visiting, " -> ".join(trail + [module])
        visiting.add(module)
        for target in sorted(graph[module]):
            visit(target, trail + [module])
        visiting.discard(module)
        done.add(module)

    for module in graph:
        visit(module, [])


def test_layers_contract_holds():
    # The test environment's own, before any other on the PATH.
    lint = str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint).exists():
        lint = shutil.which("lint-imports") or lint
    if not Path(lint).exists():
        if os.environ.get("CI"):
            pytest.fail("import-linter is not installed (pip install -e '.[test]')")
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    result = subprocess.run([lint, "--no-cache"], cwd=PACKAGE.parent, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout
