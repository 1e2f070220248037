"""The layering rules of docs/ARCHITECTURE.md, checked on every test run.

Two checks: the import-linter contracts in `.importlinter` (layers import downwards only;
renderers import nothing from Flask), and no import circle between any two modules of `app`
(lazy imports inside functions count: a circle hidden in a function is still a circle).
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(config: Path, cwd: Path, pythonpath: Path) -> int:
    """Run import-linter in a process of its own: it configures logging globally, which
    would silence the loggers other tests capture."""
    command = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
               "sys.argv = ['lint-imports', '--config', sys.argv[1], '--no-cache']; lint_imports_command()",
               str(config)]
    return subprocess.run(command, cwd=cwd, env={"PYTHONPATH": str(pythonpath), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True).returncode
pytestmark = pytest.mark.nodb


def import_cycles(package: str) -> list[list[str]]:
    """Strongly connected groups of more than one module in `package`'s import graph."""
    graph = grimp.build_graph(package, include_external_packages=False, cache_dir=None)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in edges:
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycles_in_app():
    assert import_cycles("app") == []


def test_import_contracts_are_kept():
    assert lint_imports(ROOT / ".importlinter", ROOT, ROOT) == 0


def _package(tmp_path: Path, files: dict[str, str]) -> str:
    for name, body in files.items():
        path = tmp_path / "probe_pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))
    return "probe_pkg"


def test_cycle_check_finds_a_circle_through_a_lazy_import(tmp_path, monkeypatch):
    package = _package(tmp_path, {
        "__init__.py": "",
        "donations.py": "from probe_pkg import receipts\n",
        "receipts.py": "def issue():\n    from probe_pkg.documents import render\n",
        "documents.py": "def render():\n    from probe_pkg import donations\n",
        "unrelated.py": "from probe_pkg import donations\n",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert import_cycles(package) == [
            ["probe_pkg.documents", "probe_pkg.donations", "probe_pkg.receipts"]]
    finally:
        sys.modules.pop(package, None)


def test_layer_contract_breaks_when_a_lower_layer_imports_a_higher_one(tmp_path):
    package = _package(tmp_path, {
        "__init__.py": "",
        "blueprints.py": "from probe_pkg import services\n",
        "services.py": "def helper():\n    from probe_pkg import blueprints\n",
    })
    config = tmp_path / "contracts.ini"
    config.write_text(textwrap.dedent(f"""
        [importlinter]
        root_package = {package}
        [importlinter:contract:layers]
        name = layers
        type = layers
        layers =
            {package}.blueprints
            {package}.services
    """))
    assert lint_imports(config, tmp_path, tmp_path) == 1
