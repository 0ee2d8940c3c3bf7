"""HTTP endpoints of this capability."""

from flask_smorest import Blueprint

blueprints: tuple[Blueprint, ...] = ()
