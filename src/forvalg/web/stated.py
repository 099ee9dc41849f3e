"""The work item a staff page is read under: named in the page's URL (`?work_item=`) and
carried by every link on it, so that each read states why, as an API call does with its
headers. Compliance pages read under an audit, the regulator's under an inquiry or
audit; a page opened without one sends the visitor to the audience's start page to open
or name one, and back after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response

from forvalg.wall import Purpose
from forvalg.wall.principals import Statement


class Unstated(Exception):
    """A page needs the work item it is read under; the handler sends the visitor to
    `start`, and back to `next_path` after."""

    def __init__(self, start: str, next_path: str) -> None:
        super().__init__(next_path)
        self.start, self.next_path = start, next_path


def stated_under(purpose: Purpose, start: str) -> Callable[[Request, str | None], Statement]:
    """A dependency: the page's statement, `purpose` under the work item named."""

    def statement(
        request: Request, work_item: Annotated[str | None, Query(max_length=80)] = None
    ) -> Statement:
        item = (work_item or "").strip()
        if not item:
            raise Unstated(start, request.url.path)
        return Statement(purpose, item)

    return statement


def carried(name: str, stated: Statement, /, **values: Any) -> dict[str, Any]:
    """A template context naming the work item (as `name`) and `q`, the query string
    that carries it on the page's links."""
    return {name: stated.work_item, "q": urlencode({"work_item": stated.work_item})} | values


def install(web: FastAPI) -> None:
    @web.exception_handler(Unstated)
    async def _unstated(_: Request, exc: Unstated) -> Response:
        return RedirectResponse(f"{exc.start}?" + urlencode({"next": exc.next_path}), 303)
