"""An operator's notification feed, oldest first."""

from __future__ import annotations

from dataclasses import dataclass

from forvalg.domain.notifications import FeedItem
from forvalg.wall import Principal, Purpose, Wall
from forvalg.wall.principals import UNSTATED, Statement
from forvalg.wholesale.orders import managing


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[FeedItem]
    next_cursor: int | None


class EventFeed:
    def __init__(self, wall: Wall) -> None:
        self._wall = wall

    def page(
        self,
        principal: Principal,
        *,
        after: int | None,
        limit: int,
        stated: Statement = UNSTATED,
    ) -> EventPage:
        with self._wall.access_for(principal, managing(stated), Purpose.ORDER_MANAGEMENT) as g:
            items = g.outbox.events(after=after, limit=limit)
        return EventPage(items, items[-1].seq if items else after)
