"""ASGI entry for `forvalg serve` and process managers: settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from forvalg.api.app import create_app
from forvalg.bootstrap import bootstrap
from forvalg.settings import Settings


def app() -> FastAPI:
    """Factory for `uvicorn --factory forvalg.api.asgi:app`."""
    return create_app(bootstrap(Settings.from_env()), keep_ledger=True)
