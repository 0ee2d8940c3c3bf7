"""Every environment variable the code reads is documented in the README.

The variables are found by reading the code, not a registry: `Setting("NAME", ...)`,
`os.environ.get("NAME")`, `os.environ["NAME"]`, `getenv("NAME")`, `environ.get("NAME")`
in fieldapi/ and scripts/, and the shell scripts' `$NAME` / `${NAME:-...}` that the
script does not set itself.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = r"([A-Z][A-Z0-9_]*)"
PYTHON_READS = (
    re.compile(rf'\bSetting\(\s*"{NAME}"'),
    re.compile(rf'\b(?:environ|env|environment)\.get\(\s*"{NAME}"'),
    re.compile(rf'\b(?:environ|env)\[\s*"{NAME}"\s*\]'),
    re.compile(rf'\bgetenv\(\s*"{NAME}"'),
)
SHELL_READ = re.compile(rf"\$\{{?{NAME}")
SHELL_DEFAULTED = re.compile(rf"\$\{{{NAME}:?-")
SHELL_SET = re.compile(rf"^\s*(?:export\s+|local\s+)?{NAME}=|\bfor\s+{NAME}\s+in\b", re.M)
# What the shell and the machine provide, not settings of fieldapi.
SHELL_OWN = {"BASH_SOURCE", "PATH", "HOME", "UID", "EUID", "PWD", "OSTYPE", "DEBIAN_FRONTEND"}


def python_files() -> list[Path]:
    files = [p for p in (ROOT / "fieldapi").rglob("*.py") if "vendor" not in p.parts]
    return files + sorted((ROOT / "scripts").glob("*.py"))


def shell_scripts() -> list[Path]:
    return [
        p
        for p in sorted((ROOT / "scripts").iterdir())
        if p.is_file() and p.read_text(errors="replace").startswith("#!/usr/bin/env bash")
    ]


def variables_read_by_the_code() -> dict[str, set[str]]:
    """NAME: the files that read it."""
    found: dict[str, set[str]] = {}
    for path in python_files():
        source = path.read_text()
        for pattern in PYTHON_READS:
            for name in pattern.findall(source):
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    for path in shell_scripts():
        source = "\n".join(
            line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
        )
        assigned = {a or b for a, b in SHELL_SET.findall(source)}
        defaulted = set(SHELL_DEFAULTED.findall(source))
        for name in set(SHELL_READ.findall(source)) - SHELL_OWN:
            if name in defaulted or name not in assigned:
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_scan_finds_the_variables_read_in_each_way() -> None:
    found = variables_read_by_the_code()
    assert "fieldapi/server.py" in found["ACCESS_LOG"]  # environ.get in a mapping
    assert "fieldapi/config.py" in found["DATABASE_URL"]  # Setting(
    assert "fieldapi/cli.py" in found["DATABASE_URL"]  # os.environ.get
    assert {"scripts/serve"} <= found["HOST"] and {"scripts/serve"} <= found["PORT"]
    assert "ROOT" not in found  # set by the scripts themselves


def test_every_variable_the_code_reads_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = {
        name: sorted(files)
        for name, files in variables_read_by_the_code().items()
        if f"`{name}`" not in readme
    }
    assert missing == {}
