"""Imports point down the layers of DESIGN.md §3; the CLI starts without the heavy ones."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pipeline

PACKAGE = Path(pipeline.__file__).parent

LAYER = {
    "errors": 0, "redact": 0, "__init__": 0,
    "catalog": 1, "models": 1,
    "source": 2, "validation": 2, "media": 2, "git": 2, "compiler": 2, "project": 2, "render": 2, "manifests": 2, "state": 2,
    "oneall.client": 2, "oneall.sandbox": 2, "oneall.__init__": 2, "site": 2,
    "graph": 3, "planner": 3,
    "executor": 4, "settle": 4,
    "app": 5,
    "report": 6, "generate": 6, "github": 6, "markdown": 6, "cli": 6, "__main__": 6,
}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _imports(path: Path) -> set[str]:
    module = _module(path)
    package_parts = module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package_parts[: len(package_parts) - node.level + 1]
            target = ".".join([*base, node.module] if node.module else base)
            names = [f"{target}.{a.name}" if target else a.name for a in node.names]
            for name in [target, *names]:
                if name in LAYER:
                    found.add(name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pipeline."):
                    found.add(alias.name.removeprefix("pipeline."))
    return found


def test_every_module_has_a_layer() -> None:
    assert {_module(p) for p in PACKAGE.rglob("*.py")} <= set(LAYER)


def test_imports_only_point_down_or_sideways() -> None:
    upward = []
    for path in PACKAGE.rglob("*.py"):
        module = _module(path)
        for target in _imports(path):
            if LAYER[target] > LAYER[module]:
                upward.append(f"{module} (layer {LAYER[module]}) imports {target} (layer {LAYER[target]})")
    assert upward == []


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys; from pipeline.cli import cli; "
            "heavy = [m for m in ('pydantic', 'jinja2', 'requests', 'ruamel') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
