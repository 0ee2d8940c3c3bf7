"""Configuration variables of this capability (documented in the README)."""

from fieldapi.settings import Setting

SETTINGS: tuple[Setting, ...] = ()
