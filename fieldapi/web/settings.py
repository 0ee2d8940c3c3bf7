"""Settings of the dispatcher console."""

from __future__ import annotations

from fieldapi.settings import Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "MAP_TILE_URL",
        "",
        str,
        "tile template of the console's team map (`https://tile.example.com/{z}/{x}/{y}.png`); "
        "unset: no tiles, the map shows positions, tracks and sites on a blank background",
    ),
    Setting(
        "MAP_TILE_ATTRIBUTION",
        "",
        str,
        "attribution shown under the tiles of `MAP_TILE_URL` (HTML allowed, as the tile "
        "provider asks for it)",
    ),
)
