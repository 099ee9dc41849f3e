"""Fixtures for the HTTP integration tests (each runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from forvalg.bootstrap import Services
from forvalg.domain.clock import FixedClock

from .world import LINES, Operator, World


@pytest.fixture
def world(services: Services, clock: FixedClock, engine: Engine, tmp_path: Path) -> Iterator[World]:
    found = World(services, clock, engine, tmp_path)
    found.add_lines(LINES)
    yield found
    found.close()


@pytest.fixture
def alpha(world: World) -> Operator:
    return world.add_operator("alfatel", "Alfa Telecom AS", "1501")


@pytest.fixture
def beta(world: World) -> Operator:
    return world.add_operator("betanett", "Beta Nett AS", "1502")
