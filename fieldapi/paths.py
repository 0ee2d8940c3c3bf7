"""Where the project keeps its local state (`var/`)."""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout the package runs from, or the working directory for an installed copy."""
    candidate = PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").exists():
        return candidate
    return Path.cwd()


def var_dir() -> Path:
    """`var/` holds the local database, the development secret key and photos."""
    return Path(os.environ.get("FIELDAPI_VAR_DIR") or project_root() / "var")
