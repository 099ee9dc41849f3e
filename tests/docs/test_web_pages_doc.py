"""Every web page can be found from the README (its "Pages" list) and from docs/WEB.md
(the table of pages per audience): a newcomer finds every page without reading code."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from fastapi.routing import APIRoute

from forvalg.web import routes

ROOT = Path(__file__).parents[2]
# GET routes that only send the visitor on (a form's target), not pages of their own.
NOT_PAGES = {"/wholesale/go"}


def _shape(text: str) -> str:
    """Path parameters by position, not name: `/x/{id}` and `/x/{item_id}` are one page."""
    return re.sub(r"\{[^}]*\}", "{}", text)


def _pages() -> list[str]:
    """The GET routes of every module under `web/routes` (one per audience)."""
    found = []
    for module in pkgutil.iter_modules(routes.__path__):
        router = importlib.import_module(f"{routes.__name__}.{module.name}").router
        found += [
            route.path
            for route in router.routes
            if isinstance(route, APIRoute) and "GET" in route.methods
        ]
    return sorted(set(found) - NOT_PAGES)


def test_every_page_is_in_the_readme_and_in_web_md() -> None:
    pages = _pages()
    assert "/regulator/inquiries/{item_id}/report" in pages
    readme = (ROOT / "README.md").read_text()
    listed = _shape(readme.split("\n## Pages", 1)[1].split("\n## ", 1)[0])
    web_md = _shape((ROOT / "docs" / "WEB.md").read_text())
    for path in pages:
        shaped = _shape(path)
        assert re.search(rf"`{re.escape(shaped)}[`?]", listed), f"{path} is not in README's Pages"
        assert re.search(rf"`{re.escape(shaped)}[`?]", web_md), f"{path} is not in docs/WEB.md"
