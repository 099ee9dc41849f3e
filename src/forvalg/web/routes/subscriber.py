"""The subscriber's own line (filled in below)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/subscriber")
