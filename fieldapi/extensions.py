"""Flask extensions shared across capabilities (rate limiting)."""

from __future__ import annotations

from flask import Flask


def init_extensions(app: Flask) -> None:
    """Hook for extensions that need the configured app (the rate limiter lives here)."""
