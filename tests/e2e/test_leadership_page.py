"""The leadership page in a real browser (Chromium via Playwright) against a real PAO on loopback with a
seeded request history: charts drawn, numbers shown, readiness reasons, the calendar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from pao_backend.app import create_app
from pao_backend.settings import Settings
from tests.conftest import ROOT, SAMPLE_CATALOG
from tests.support.governance_history import seed_history
from tests.support.live_server import serve

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data: Path = tmp_path_factory.mktemp("leadership")
    app = create_app(Settings(environment="test", data_dir=data, catalog_dir=SAMPLE_CATALOG))
    with serve(app, lifespan="on") as url:
        seed_history(app.state.db, datetime.now(UTC))
        yield url


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def test_leadership_page_shows_charts_readiness_and_the_calendar(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Leadership").click()
    expect(page).to_have_url(f"{page.url.split('/leadership')[0]}/leadership")
    expect(page.get_by_role("heading", name="Platform at a glance")).to_be_visible()
    expect(page.locator("[data-kpi=requests]")).to_have_text("4")
    expect(page.locator("[data-kpi=requesters]")).to_have_text("3")
    expect(page.locator("[data-kpi=automation]")).to_have_text("50 %")
    # Four charts, each an accessible image with bars.
    for name in (
        "Requests per week",
        "Where the lead time went",
        "Failed actions by class",
        "Automation share",
    ):
        chart = page.get_by_role("img", name=name)
        expect(chart).to_be_visible()
        assert chart.locator("rect.bar").count() >= 1
    expect(page.locator("#lead-time tr[data-split=waiting] td").nth(2)).to_have_text("2.0 d")
    expect(page.locator("#failures")).to_contain_text("backend_unavailable")
    messaging = page.locator("#readiness tr[data-team=platform-messaging]")
    expect(messaging).to_contain_text("manual")
    expect(messaging).to_contain_text("candidate for automation support")
    expect(page.locator("#readiness tr[data-team=platform-databases]")).to_contain_text("hybrid")
    expect(page.locator("#calendar tr[data-window=holiday-season]")).to_contain_text("yearly: 09-25 → 01-15")
    expect(page.locator("#calendar tr[data-window=weekend]")).to_contain_text("approval by change-managers")
    expect(page.locator("[data-frozen-now]")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "leadership.png"), full_page=True)


def test_leadership_page_filters_by_team(page: Page) -> None:
    page.goto("/leadership?team=platform-messaging&weeks=4")
    expect(page.locator("[data-kpi=requests]")).to_have_text("2")
    expect(page.get_by_role("combobox", name="Team")).to_have_value("platform-messaging")
