"""The import directions of the package docstring of `fieldapi`, checked by walking every
module's imports with `ast`: a new crossing between capabilities fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import fieldapi

PACKAGE = Path(fieldapi.__file__).parent
CAPABILITIES = ("accounts", "enterprise", "eta", "jobs", "lifecycle", "locations", "messaging")

# (importing capability, imported module): every crossing there is today. A capability
# uses another through the small public modules named here, never through its `models`.
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("accounts", "fieldapi.lifecycle"),
        ("accounts", "fieldapi.messaging.outbox"),
        ("accounts", "fieldapi.messaging.templates"),
        ("enterprise", "fieldapi.accounts.auth"),
        ("enterprise", "fieldapi.accounts.directory"),
        ("enterprise", "fieldapi.accounts.organizations"),
        ("enterprise", "fieldapi.accounts.principal"),
        ("enterprise", "fieldapi.jobs.activity"),
        ("enterprise", "fieldapi.jobs.attachments"),
        ("enterprise", "fieldapi.jobs.commands"),
        ("enterprise", "fieldapi.jobs.customers"),
        ("enterprise", "fieldapi.jobs.enterprise_access"),
        ("enterprise", "fieldapi.jobs.reasons"),
        ("enterprise", "fieldapi.jobs.schemas"),
        ("enterprise", "fieldapi.jobs.settings_views"),
        ("enterprise", "fieldapi.lifecycle"),
        ("enterprise", "fieldapi.messaging.outbox"),
        ("enterprise", "fieldapi.messaging.worker"),
        ("eta", "fieldapi.accounts.auth"),
        ("eta", "fieldapi.accounts.policy"),
        ("eta", "fieldapi.jobs.customers"),
        ("eta", "fieldapi.locations.positions"),
        ("jobs", "fieldapi.accounts.auth"),
        ("jobs", "fieldapi.accounts.members"),
        ("jobs", "fieldapi.accounts.organizations"),
        ("jobs", "fieldapi.accounts.policy"),
        ("jobs", "fieldapi.accounts.principal"),
        ("jobs", "fieldapi.enterprise.events"),
        ("jobs", "fieldapi.eta.model"),
        ("jobs", "fieldapi.eta.service"),
        ("jobs", "fieldapi.eta.settings"),
        ("jobs", "fieldapi.lifecycle"),
        ("jobs", "fieldapi.messaging.optout_clause"),
        ("jobs", "fieldapi.messaging.visit_texts"),
        ("jobs", "fieldapi.messaging.outbox"),
        ("jobs", "fieldapi.messaging.templates"),
        ("locations", "fieldapi.accounts.auth"),
        ("locations", "fieldapi.accounts.members"),
        ("locations", "fieldapi.accounts.organizations"),
        ("locations", "fieldapi.accounts.policy"),
        ("locations", "fieldapi.accounts.principal"),
        ("locations", "fieldapi.accounts.sessions"),
        ("locations", "fieldapi.jobs.en_route"),
        ("locations", "fieldapi.accounts.tokens"),
        ("locations", "fieldapi.eta.model"),
        ("locations", "fieldapi.eta.fits"),
        ("locations", "fieldapi.eta.settings"),
        ("messaging", "fieldapi.accounts.auth"),
        ("messaging", "fieldapi.accounts.organizations"),
        ("messaging", "fieldapi.accounts.policy"),
        ("messaging", "fieldapi.accounts.principal"),
        ("messaging", "fieldapi.jobs.activity"),
        ("messaging", "fieldapi.jobs.customers"),
        ("messaging", "fieldapi.jobs.visibility"),
    }
)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_time_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of `tree` but those under `if TYPE_CHECKING:` (their `else` counts): such
    an import is no dependency at run time, as import-linter's
    `exclude_type_checking_imports` has it."""
    found: list[ast.AST] = []
    waiting = [tree]
    while waiting:
        node = waiting.pop()
        found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node):
            waiting.extend(node.orelse)
        else:
            waiting.extend(ast.iter_child_nodes(node))
    return found


def imports_of(path: Path) -> set[str]:
    """The fieldapi modules `path` imports (`from fieldapi.x import y` counts as `x.y` when
    `y` is a module, else as `x`), at the top or inside functions, not for type checking."""
    found: set[str] = set()
    for node in _run_time_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("fieldapi"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not node.module.startswith("fieldapi"):
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists() or (
                    PACKAGE.parent / candidate.replace(".", "/")
                ).is_dir()
                found.add(candidate if is_module else node.module)
    return found


def capability_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in CAPABILITIES else None


def crossings() -> set[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        importer = capability_of(module)
        if importer is None:
            continue
        for imported in imports_of(path):
            target = capability_of(imported)
            if target is not None and target != importer:
                seen.add((importer, imported))
    return seen


def test_no_capability_crosses_into_another_beyond_the_allowed_modules() -> None:
    new = sorted(crossings() - ALLOWED)
    assert new == [], (
        "new imports between capabilities; use a public function of the other capability "
        "or document the direction in fieldapi/__init__.py and ALLOWED: " + repr(new)
    )


def test_the_allowed_list_holds_no_crossing_that_is_gone() -> None:
    stale = sorted(ALLOWED - crossings())
    assert stale == [], f"remove from ALLOWED, nothing imports these any more: {stale!r}"


def test_no_capability_imports_another_capabilitys_models() -> None:
    into_models = sorted(
        (importer, imported) for importer, imported in crossings() if imported.endswith(".models")
    )
    assert into_models == []


def test_accounts_knows_nothing_of_jobs_and_the_lifecycle_imports_no_capability() -> None:
    found = crossings()
    assert not {c for c in found if c[0] == "accounts" and c[1].startswith("fieldapi.jobs")}
    assert not {c for c in found if c[0] == "lifecycle"}


def test_the_walker_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "def f():\n    from fieldapi.jobs.models import Job\n    import fieldapi.db\n"
    )
    assert imports_of(source) == {"fieldapi.jobs.models", "fieldapi.db"}


def test_the_walker_skips_type_checking_imports_and_sees_the_others(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "import typing\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from fieldapi.accounts.models import User\n"
        "else:\n"
        "    from fieldapi.jobs.models import Job\n"
        "if typing.TYPE_CHECKING:\n"
        "    import fieldapi.messaging.models\n"
        "if True:\n"
        "    from fieldapi.accounts.members import is_member\n"
    )
    assert imports_of(source) == {"fieldapi.jobs.models", "fieldapi.accounts.members"}
