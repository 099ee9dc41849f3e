"""/openapi.json describes every route of the operator API, each with a summary."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi.routing import APIRoute

from forvalg.web.app import Pages

from .world import World

EXPECTED = {
    ("post", "/v1/orders"),
    ("get", "/v1/orders"),
    ("get", "/v1/orders/{order_id}"),
    ("post", "/v1/orders/{order_id}/cancel"),
    ("get", "/v1/lines/{number}/eligibility"),
    ("get", "/v1/events"),
}


def _api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI may include them lazily);
    not the web pages (docs/WEB.md), which are HTML and not part of the API."""
    for route in routes:
        if isinstance(route, Pages):
            continue
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None) or getattr(route, "app", None)
        if included is not None and hasattr(included, "routes"):
            yield from _api_routes(included.routes)


def test_openapi_lists_every_route_with_a_summary(world: World) -> None:
    response = world.client().get("/openapi.json")

    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    operations = {
        (method, path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }
    routes = {
        (method.lower(), route.path)
        for route in _api_routes(world.app.routes)
        for method in route.methods or ()
    }
    assert routes == set(operations)
    assert set(operations) >= EXPECTED
    for key, operation in operations.items():
        assert operation.get("summary", "").strip(), key
        assert "401" in operation["responses"], key
        assert "422" in operation["responses"], key
    assert "409" in operations[("post", "/v1/orders")]["responses"]
    assert "409" in operations[("post", "/v1/orders/{order_id}/cancel")]["responses"]
    header_names = {p["name"] for p in operations[("post", "/v1/orders")].get("parameters", [])}
    assert "Idempotency-Key" in header_names
