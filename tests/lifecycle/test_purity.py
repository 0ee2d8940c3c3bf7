"""The lifecycle is shared with other apps: it must stay pure (stdlib, no clock, no I/O)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "fieldapi" / "lifecycle"

FORBIDDEN_PREFIXES = (
    "flask",
    "sqlalchemy",
    "geoalchemy2",
    "werkzeug",
    "psycopg",
    "shapely",
    "twilio",
)
ALLOWED_IMPORTS = {
    "__future__",
    "collections.abc",
    "dataclasses",
    "datetime",
    "enum",
    "types",
    "typing",
}
CLOCK_AND_IO_CALLS = {
    "now",
    "utcnow",
    "today",
    "time",
    "monotonic",
    "open",
    "print",
    "input",
    "sleep",
}


def test_importing_lifecycle_loads_nothing_but_the_stdlib() -> None:
    code = "import sys, json, fieldapi.lifecycle; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules: list[str] = json.loads(result.stdout)
    assert "fieldapi.lifecycle" in modules
    forbidden = [m for m in modules if m.split(".")[0] in FORBIDDEN_PREFIXES]
    assert forbidden == []
    other_fieldapi = [
        m for m in modules if m.startswith("fieldapi.") and not m.startswith("fieldapi.lifecycle")
    ]
    assert other_fieldapi == []


def _sources() -> list[Path]:
    return sorted(PACKAGE.glob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.name)
def test_module_imports_only_allowed_stdlib(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 0:  # relative: stays inside fieldapi.lifecycle
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert name in ALLOWED_IMPORTS, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.name)
def test_module_calls_no_clock_and_does_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            assert name not in CLOCK_AND_IO_CALLS, f"{path.name}:{node.lineno} calls {name}"
