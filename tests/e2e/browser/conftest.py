"""Browser tests: Debian's Chromium, headless, driven by Playwright, against a live
`forvalg serve` started from the real executable on a free port (SQLite; the wall on
PostgreSQL is covered by tests/integration/test_web_pages.py).

Playwright's own browser downloads are never used: `executable_path` is Debian's
`/usr/bin/chromium` (`.ci/run` installs it). With FORVALG_SCREENSHOTS=1 the tests save
the main pages to docs/screenshots/.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from ..helpers import HEADER, Cli
from ..server import served

CHROMIUM = Path(os.environ.get("FORVALG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
LINES = {
    "22334455": "0150,PSTN,ACTIVE",
    "22334466": "0150,PSTN,ACTIVE",
    "22334477": "0151,ISDN_BRA,ACTIVE",
    "23456701": "0560,PSTN,ACTIVE",
}


@dataclass
class Site:
    """A served forvalg with one operator and one staff user per role that has pages."""

    url: str
    cli: Cli
    operator_key: str
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def database(self) -> Path:
        return self.cli.cwd / "forvalg.db"

    def token(self, role: str) -> str:
        if role not in self.tokens:
            self.tokens[role] = self.cli.ok(
                "users", "add", "--name", f"browser {role}", "--role", role
            ).last_line.strip()
        return self.tokens[role]

    def code_for(self, number: str) -> str:
        """The one-time code in the last message to the line (the outbox, under the wall)."""
        with closing(sqlite3.connect(self.database)) as db:
            rows = db.execute(
                "SELECT body FROM subscriber_messages WHERE number = ? ORDER BY rowid", (number,)
            ).fetchall()
        assert rows, f"no message to {number}"
        found = re.search(r"\bis ([0-9]{8})\.", rows[-1][0])
        assert found, rows[-1][0]
        return found.group(1)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("site")
    cli = Cli(directory)
    cli.ok("init")
    inventory = directory / "lines.csv"
    inventory.write_text(HEADER + "\n" + "".join(f"{n},{r}\n" for n, r in LINES.items()))
    cli.ok("lines", "import", inventory)
    key = cli.ok(
        "operators", "add", "--id", "alfatel", "--name", "Alfa Telecom AS", "--csc", "1501"
    ).last_line.strip()
    log = directory / "serve.log"
    with served(cli, log) as (port, _):  # which checks the log has no traceback
        yield Site(f"http://127.0.0.1:{port}", cli, key)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert CHROMIUM.is_file(), f"no Chromium at {CHROMIUM}: apt-get install chromium"
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page: Page, name: str) -> None:
    """Saved to docs/screenshots/NAME.png when FORVALG_SCREENSHOTS=1."""
    if os.environ.get("FORVALG_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, site: Site, credential: str) -> None:
    page.goto(site.url + "/signin")
    page.get_by_label("API key or staff token").fill(credential)
    page.get_by_role("button", name="Sign in").click()
