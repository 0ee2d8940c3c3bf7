"""The baseline of bench_ingest (d): a bare Flask app that only parses the positions
(the apps' ping JSON, OsmAnd's query fields, an OwnTracks message).

It runs under `fieldapi.server.run_gunicorn`, the very function `fieldapi serve` uses, so
the gunicorn settings (workers, worker class, timeouts) are the API's own.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from flask import Flask, request

import fieldapi.server

bare = Flask("bench_ingest_bare")


@bare.post("/v1/locations")
def locations() -> dict[str, Any]:
    body = json.loads(request.get_data())
    return {"stored": len(body["pings"]), "duplicates": 0, "rejected": []}


@bare.post("/ingest/osmand")
def osmand() -> tuple[str, int]:
    fields = request.args
    float(fields["lat"]), float(fields["lon"]), int(fields["timestamp"])
    return "", 200


@bare.post("/ingest/owntracks")
def owntracks() -> list[Any]:
    message = json.loads(request.get_data())
    float(message["lat"]), float(message["lon"]), int(message["tst"])
    return []


@bare.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    fieldapi.server._Gunicorn.load = lambda _self: bare  # serve this app, same options
    fieldapi.server.run_gunicorn(args.host, args.port, workers=None, threads=None)


if __name__ == "__main__":
    main()
