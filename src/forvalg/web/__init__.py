"""The web pages: server-rendered HTML for each audience over the same services as the
API (docs/WEB.md)."""

from forvalg.web.app import create_web

__all__ = ["create_web"]
