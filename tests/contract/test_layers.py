"""Imports point down the layers of DESIGN.md §3; the CLI starts without the heavy ones."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pipeline

PACKAGE = Path(pipeline.__file__).parent

#: The phases, top to bottom (DESIGN.md §3): a module may import from its own layer or
#: any layer below. A folder is one layer; a top-level module is its own.
ORDER = [
    ("cli", "__main__"),
    ("app",),
    ("report",),
    ("apply",),
    ("oneall",),
    ("plan",),
    ("load",),
    ("model",),
    ("catalog", "clock", "errors", "redact", "files", "git", "__init__"),
]
LAYER = {name: len(ORDER) - i for i, names in enumerate(ORDER) for name in names}


def _layer(module: str) -> str:
    """The layer a dotted module (relative to the package) belongs to: its top folder."""
    return module.split(".")[0]


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _is_module(dotted: str) -> bool:
    path = PACKAGE.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or path.is_dir()


def _imports(path: Path) -> set[str]:
    """The package's modules that ``path`` imports, relative to the package."""
    package_parts = _module(path).split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            elif node.module and (node.module + ".").startswith("pipeline."):
                target = node.module.removeprefix("pipeline").lstrip(".")
            else:
                continue
            names = [f"{target}.{a.name}" if target else a.name for a in node.names]
            found.update(n for n in [target, *names] if n and _is_module(n))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("pipeline.") for a in node.names
                         if a.name.startswith("pipeline."))
    return found


def test_the_layer_check_sees_absolute_and_relative_imports() -> None:
    assert {"apply.store", "apply"} <= _imports(PACKAGE / "app" / "applying.py")
    assert "catalog" in _imports(PACKAGE / "model" / "config.py")


def test_every_module_has_a_layer() -> None:
    assert {_layer(_module(p)) for p in PACKAGE.rglob("*.py")} <= set(LAYER)


def test_imports_only_point_down_or_sideways() -> None:
    upward = []
    for path in PACKAGE.rglob("*.py"):
        module = _module(path)
        for target in _imports(path):
            if LAYER[_layer(target)] > LAYER[_layer(module)]:
                upward.append(f"{module} ({_layer(module)}) imports {target} ({_layer(target)}), "
                              "which is above it")
    assert upward == []


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys; from pipeline.cli import cli; "
            "heavy = [m for m in ('pydantic', 'jinja2', 'requests', 'ruamel') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_exception_class_lives_in_errors() -> None:
    import inspect

    from pipeline import errors

    known = {name for name, obj in vars(errors).items() if inspect.isclass(obj) and issubclass(obj, BaseException)}
    elsewhere = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
                         for b in node.bases}
                if bases & (known | {"Exception", "BaseException", "ValueError", "RuntimeError"}) \
                        or any(b.endswith(("Error", "Exception")) for b in bases):
                    elsewhere.append(f"{_module(path)}.{node.name}")
    assert elsewhere == []
