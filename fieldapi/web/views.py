"""The console's pages and assets: `/` redirects to `/app/`, which loads the console.

The console is static HTML and plain ES modules that call the public /v1 API with a
bearer token; nothing here reads the database.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, render_template, send_from_directory

WEB_DIR = Path(__file__).resolve().parent

blp = Blueprint("web", __name__, template_folder="templates")


@blp.get("/")
def root() -> Response:
    return redirect("/app/", code=302)  # type: ignore[return-value]


@blp.get("/app")
@blp.get("/app/")
def console() -> str:
    return render_template(
        "console.html",
        tile_url=current_app.config["MAP_TILE_URL"],
        tile_attribution=current_app.config["MAP_TILE_ATTRIBUTION"],
    )


@blp.get("/app/static/<path:filename>")
def static(filename: str) -> Response:
    return send_from_directory(WEB_DIR / "static", filename, max_age=0)


@blp.get("/app/vendor/<path:filename>")
def vendor(filename: str) -> Response:
    return send_from_directory(WEB_DIR / "vendor", filename, max_age=3600)
