"""The API reference served by the API process: /openapi.json and the page at /docs."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.conftest import ApiClient

ROOT = Path(__file__).resolve().parents[2]


def test_openapi_json_is_the_committed_document(client: ApiClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.json == json.loads((ROOT / "openapi" / "openapi.json").read_text())


def test_the_probes_are_in_the_document(client: ApiClient) -> None:
    paths = client.get("/openapi.json").json["paths"]
    assert set(paths["/healthz"]) == {"get"}
    assert set(paths["/readyz"]) == {"get"}
    assert "503" in paths["/readyz"]["get"]["responses"]


def local_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def served(client: ApiClient, path: str) -> int:
    response = client.get(path)
    response.close()  # a file answer holds its file open until closed
    return response.status_code


def test_docs_page_loads_only_assets_this_server_serves(client: ApiClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = local_assets(html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by fieldapi"
        assert served(client, asset) == 200, asset
    assert '"/openapi.json"' in html


def test_the_console_page_loads_only_assets_this_server_serves(client: ApiClient) -> None:
    assert client.get("/").headers["Location"] == "/app/"
    page = client.get("/app/")
    assert page.status_code == 200
    for asset in local_assets(page.get_data(as_text=True)):
        if asset.startswith(("#", "data:")) or asset == "/docs":
            continue
        assert asset.startswith("/"), f"{asset} is not served by fieldapi"
        assert served(client, asset) == 200, asset


def test_every_vendored_asset_carries_its_licence_and_version() -> None:
    vendor = ROOT / "fieldapi" / "web" / "vendor"
    packages = [path for path in vendor.iterdir() if path.is_dir()]
    assert {path.name for path in packages} >= {"leaflet", "swagger-ui"}
    for package in packages:
        assert (package / "LICENSE").is_file(), package.name
        manifest = json.loads((package / "package.json").read_text())
        assert manifest["version"] and manifest["license"], package.name


def test_no_file_of_the_product_points_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = re.compile(r"(\.\.|/work)/shar[e]d")  # spelled so as not to match itself
    pointing = [
        name
        for name in tracked
        if (ROOT / name).is_file()
        and "vendor/" not in name
        and outside.search((ROOT / name).read_text(errors="replace"))
    ]
    assert pointing == []
