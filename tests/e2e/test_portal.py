"""The portal in a real browser (Debian's Chromium via Playwright) against a real PAO served by uvicorn:
sample catalog, demo provisioner, built-in inbox, SQLite in a temporary folder.

The browser must start: if it cannot, these tests fail (they never skip). Screenshots of every page
visited land in test-artifacts/screenshots/ (git-ignored) so a person can look at what users see.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.conftest import ROOT, SAMPLE_CATALOG
from tests.support.rest_backend import Reply, RestBackend

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = ROOT / "test-artifacts" / "screenshots"
LIVE_TIMEOUT_MS = 60_000
# The team that fulfils the sample Kafka topic by hand (catalog/messaging/messaging-kafka-topic.yaml).
MESSAGING = {"X-PAO-On-Behalf-Of": "user:default/mia", "X-PAO-On-Behalf-Of-Teams": "platform-messaging"}


@contextlib.contextmanager
def serve_pao(data: Path, **env_overrides: str) -> Iterator[str]:
    """A PAO process on an ephemeral port (the socket is bound here and handed to uvicorn by fd)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PAO_ENVIRONMENT": "development",
        "PAO_CATALOG_DIR": str(SAMPLE_CATALOG),
        "PAO_DATA_DIR": str(data),
        "PAO_DATABASE_URL": "",
        "PAO_DEMO_PROVISIONER": "true",
        "PAO_BASE_URL": base,
        "PAO_PROVISIONER_URL": f"{base}/demo/provisioner",
        "PAO_EXECUTOR_ID": f"pao-e2e-{uuid.uuid4().hex[:8]}",
        "PAO_DEV_IDENTITY": "user:default/dev",
        "PAO_DEV_IDENTITY_TEAMS": '["developer-experience"]',
        **env_overrides,
    }
    log_path = data / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "pao_backend.app:create_app",
            "--factory",
            "--fd",
            str(sock.fileno()),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        pass_fds=[sock.fileno()],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sock.close()
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"PAO exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"PAO did not answer within 60 s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def pao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_pao(tmp_path_factory.mktemp("pao-e2e")) as base:
        yield base


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); see .ci/run"
        )
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # any launch failure must fail the run, not skip it
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}")
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, pao: str) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=pao, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def mark_document(page: Page) -> None:
    """Leave a marker in the document: if the page reloads or navigates, the marker is gone."""
    page.evaluate("window.__paoNoReload = 'still here'")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__paoNoReload") == "still here", "the page reloaded"


def request_id_from(page: Page) -> str:
    match = re.search(r"/requests/([^/?#]+)$", page.url)
    assert match, page.url
    return match.group(1)


# --- catalog, offering, form ------------------------------------------------------------------------


def test_catalog_home_search_and_filters_narrow_the_cards(page: Page) -> None:
    page.goto("/")
    cards = page.locator("#catalog-cards .card:visible")
    total = page.locator("#catalog-cards .card").count()
    assert total >= 9  # every sample offering and bundle
    expect(cards).to_have_count(total)
    page.get_by_label("Search").fill("postgres")
    expect(page.locator('.card[data-id="database-postgresql-standard"]')).to_be_visible()
    expect(page.locator('.card[data-id="messaging-kafka-topic"]')).to_be_hidden()
    expect(page.locator("#catalog-count")).to_contain_text(f"of {total} offerings")
    page.get_by_label("Search").fill("")
    page.get_by_label("Fulfilment").select_option("manual")
    expect(cards.first).to_contain_text("manual")
    assert all("manual" in t for t in cards.all_inner_texts())
    shot(page, "catalog-filtered")
    page.get_by_label("Fulfilment").select_option("")
    shot(page, "catalog")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "catalog-phone")


def test_offering_page_shows_what_you_get_owner_and_fields(page: Page) -> None:
    page.goto("/offerings/bundle-webapp-standard")
    expect(page.get_by_role("heading", name="Web Application Stack")).to_be_visible()
    expect(page.get_by_role("link", name="dx@example.com")).to_be_visible()
    expect(page.locator(".steps > li")).to_have_count(3)
    shot(page, "offering")


def test_validation_messages_appear_beside_the_fields_as_the_user_types(page: Page) -> None:
    page.goto("/offerings/database-postgresql-standard/request")
    name = page.get_by_label("Database Name")
    name.fill("Bad Name")
    name.press("Tab")
    expect(page.locator("#err-f-name")).to_contain_text("must match the pattern")
    expect(name).to_have_attribute("aria-invalid", "true")
    storage = page.get_by_label("Storage (GB)")
    storage.fill("5")
    storage.press("Tab")
    expect(page.locator("#err-f-basic-storageSize")).to_have_text("Storage (GB) must be ≥ 20")
    email = page.get_by_label("Owner Email")
    email.fill("not-an-email")
    email.press("Tab")
    expect(page.locator("#err-f-advanced-ownerEmail")).to_contain_text("email address")
    extensions = page.locator("#f-advanced-extensions input")
    for i in range(4):
        extensions.nth(i).check()
    expect(page.locator("#err-f-advanced-extensions")).to_contain_text("at most 3 choices")
    shot(page, "form-invalid")
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#form-error")).to_contain_text("need attention")
    assert "/request" in page.url  # nothing was submitted
    # Fixing a field clears its message while typing.
    name.fill("orders-db")
    expect(page.locator("#err-f-name")).to_be_empty()


def test_date_bounds_and_file_sizes_are_checked_in_the_browser_too(page: Page) -> None:
    page.goto("/offerings/storage-bucket-standard/request")
    expiry = page.get_by_label("Bucket expiry date")
    expiry.fill("2025-06-01")
    expiry.press("Tab")
    expect(page.locator("#err-f-bucket-expiresOn")).to_contain_text("must be on or after 2026-01-01")
    page.goto("/offerings/messaging-kafka-topic/request")
    schema_file = page.get_by_label("Message Schema")
    schema_file.set_input_files(
        files=[{"name": "huge.json", "mimeType": "application/json", "buffer": b"x" * (1024 * 1024 + 1)}]
    )
    expect(page.locator("#err-f-topic-schemaFile")).to_contain_text("must be at most 1048576 bytes")
    schema_file.set_input_files(
        files=[{"name": "orders.avsc", "mimeType": "application/json", "buffer": b'{"type": "record"}'}]
    )
    expect(page.locator("#err-f-topic-schemaFile")).to_be_empty()


def test_server_422_errors_are_shown_on_the_same_fields(page: Page) -> None:
    """The browser's copy of the rules is loosened on purpose, so only the server can catch the bad name."""

    def loosen(route: object) -> None:
        response = route.fetch()  # type: ignore[attr-defined]
        html = response.text().replace('"pattern": "^[a-z][a-z0-9-]{2,28}[a-z0-9]$"', '"pattern": ".*"')
        route.fulfill(response=response, body=html)  # type: ignore[attr-defined]

    page.route("**/offerings/database-postgresql-standard/request", loosen)
    page.goto("/offerings/database-postgresql-standard/request")
    page.get_by_label("Database Name").fill("Bad Name")
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#err-f-name")).to_contain_text("must match the pattern")
    expect(page.locator("#form-error")).to_contain_text("problem")
    shot(page, "form-server-422")


def test_the_form_works_with_the_keyboard_alone(page: Page) -> None:
    page.goto("/offerings/storage-bucket-standard/request")
    page.keyboard.type("keyboard-bucket")  # the name field has the focus on arrival
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused == "f-bucket-storageClass"
    page.keyboard.press("ArrowDown")  # a closed <select> changes value with the arrow keys
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # uncheck "Keep old versions"
    assert page.locator("#f-bucket-versioning").is_checked() is False
    page.locator("#f-name").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/requests/[^/]+$"))
    wait_for_state(page, "completed")


# --- ordering and watching --------------------------------------------------------------------------


def order(
    page: Page, offering_id: str, name: str, *, preview: bool = False, screenshot: str | None = None
) -> str:
    """Fill the name (defaults for the rest), optionally preview the plan, submit; returns the request id."""
    page.goto(f"/offerings/{offering_id}/request")
    page.locator("#f-name").fill(name)
    if preview:
        page.get_by_role("button", name="Preview plan").click()
        expect(page.locator("#plan-list > li").first).to_be_visible()
        if screenshot:
            shot(page, screenshot)
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_url(re.compile(r"/requests/[^/]+$"))
    return request_id_from(page)


def wait_for_state(page: Page, state: str) -> None:
    expect(page.locator("#req-status")).to_have_text(state, timeout=LIVE_TIMEOUT_MS)


def test_order_the_web_app_bundle_and_watch_it_complete_without_reloading(page: Page) -> None:
    page.goto("/")
    card = page.locator('.card[data-id="bundle-webapp-standard"]')
    card.get_by_role("link", name="Request").click()
    expect(page.get_by_role("heading", name="Request Web Application Stack")).to_be_visible()
    page.get_by_label("Stack Name").fill("shop-e2e")
    page.get_by_role("button", name="Preview plan").click()
    plan = page.locator("#plan-list > li")
    # The first plan of a fresh server; on a loaded 2-core CI machine it once took over 5 s.
    expect(plan).to_have_count(3, timeout=LIVE_TIMEOUT_MS)
    expect(plan.nth(0)).to_contain_text("database")
    expect(plan.nth(0)).to_contain_text("provisioning API")
    expect(plan.nth(2)).to_contain_text("after database, secrets")
    shot(page, "form-plan-preview")
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_url(re.compile(r"/requests/[^/]+$"))
    mark_document(page)
    expect(page.locator("#live-indicator")).to_have_attribute("data-live", "on")
    wait_for_state(page, "completed")
    assert_not_reloaded(page)
    components = page.locator("#timeline > .component")
    expect(components).to_have_count(3)
    for i in range(3):
        expect(components.nth(i)).to_have_attribute("data-state", "completed")
    expect(page.locator("#outputs-panel")).to_be_visible()
    expect(page.locator('#outputs [data-output="databaseUrl"]')).not_to_be_empty()
    expect(page.locator("#events li").first).to_be_attached()
    shot(page, "request-completed")
    page.goto("/requests")
    expect(page.locator("#requests-body tr").first).to_contain_text("completed")
    page.get_by_label("Status").select_option("failed")
    expect(page.locator("#requests-body")).not_to_contain_text("shop-e2e")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Search").fill("shop-e2e")
    rows = page.locator("#requests-body tr[data-id]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("shop-e2e")
    shot(page, "my-requests")


def test_a_manual_item_resolved_from_the_inbox_updates_the_requesters_page_live(
    page: Page, browser: Browser, pao: str
) -> None:
    page.goto("/offerings/messaging-kafka-topic/request")
    page.locator("#f-name").fill("orders-events")
    page.get_by_label("Message Schema").set_input_files(
        files=[{"name": "orders.avsc", "mimeType": "application/json", "buffer": b'{"type": "record"}'}]
    )
    page.get_by_label("Consumer Teams").fill("billing\nanalytics")
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_url(re.compile(r"/requests/[^/]+$"))
    mark_document(page)
    wait_for_state(page, "running")
    expect(page.locator(".component").first).to_have_attribute(
        "data-state", "waiting", timeout=LIVE_TIMEOUT_MS
    )
    expect(page.locator(".ticket-link").first).to_be_visible()
    shot(page, "request-waiting-on-ticket")

    team = browser.new_context(
        base_url=pao, extra_http_headers=MESSAGING, viewport={"width": 1280, "height": 900}
    )
    try:
        inbox = team.new_page()
        inbox.goto("/inbox")
        ticket = inbox.locator(".ticket", has_text="orders-events")
        expect(ticket).to_be_visible()
        shot(inbox, "inbox")
        ticket.get_by_label("topicName").fill("orders-events")
        ticket.get_by_label("bootstrapServers").fill("kafka-1.internal:9092")
        ticket.get_by_role("button", name="Mark done").click()
        expect(inbox.locator(".ticket", has_text="orders-events")).to_have_count(0)
    finally:
        team.close()

    wait_for_state(page, "completed")
    assert_not_reloaded(page)
    expect(page.locator('#outputs [data-output="bootstrapServers"]')).to_have_text("kafka-1.internal:9092")
    shot(page, "request-resolved-from-inbox")


def test_a_failed_automatic_component_is_retried_from_the_page(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The provisioning API fails once (500) and then works; the bucket offering does not retry by itself,
    so the request fails and waits for a person, who presses Retry on the page."""
    backend = RestBackend().start()
    backend.script(
        "/buckets",
        [
            Reply(500, {"error": "storage backend is rebalancing"}),
            Reply(201, {"id": "bkt-1", "url": "https://flaky-bucket.storage.internal"}),
        ],
    )
    try:
        with serve_pao(
            tmp_path_factory.mktemp("pao-retry"), PAO_ENDPOINTS=f'{{"provisioner": "{backend.url}"}}'
        ) as base:
            ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
            try:
                page = ctx.new_page()
                order(page, "storage-bucket-standard", "flaky-bucket")
                mark_document(page)
                wait_for_state(page, "failed")
                box = page.locator("#failure-box")
                expect(box).to_be_visible()
                expect(page.locator("#failure-message")).not_to_be_empty()
                expect(page.locator("#failure-contact")).to_contain_text("Storage")
                expect(page.locator(".actions .error-text")).to_contain_text("500")
                shot(page, "request-failed")
                page.get_by_role("button", name="Retry").click()
                wait_for_state(page, "completed")
                expect(box).to_be_hidden()
                assert_not_reloaded(page)
                expect(page.locator('#outputs [data-output="bucketUrl"]')).to_have_text(
                    "https://flaky-bucket.storage.internal"
                )
                shot(page, "request-retried")
            finally:
                ctx.close()
        assert len(backend.seen("/buckets")) == 2  # one failed call, one retried call, nothing more
    finally:
        backend.stop()


def test_escalating_a_failed_component_hands_it_to_the_owning_teams_inbox(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    backend = RestBackend().start()
    backend.script("/buckets", [Reply(503, {"error": "storage backend is down"})])
    storage_team = {"X-PAO-On-Behalf-Of": "user:default/sam", "X-PAO-On-Behalf-Of-Teams": "platform-storage"}
    try:
        with serve_pao(
            tmp_path_factory.mktemp("pao-escalate"), PAO_ENDPOINTS=f'{{"provisioner": "{backend.url}"}}'
        ) as base:
            requester = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
            team = browser.new_context(base_url=base, extra_http_headers=storage_team)
            try:
                page = requester.new_page()
                order(page, "storage-bucket-standard", "archive-bucket")
                mark_document(page)
                wait_for_state(page, "failed")
                page.get_by_role("button", name="Escalate to the team").click()
                expect(page.locator("#failure-box")).to_be_hidden(timeout=LIVE_TIMEOUT_MS)
                expect(page.locator(".ticket-link").first).to_be_visible(timeout=LIVE_TIMEOUT_MS)
                shot(page, "request-escalated")
                inbox = team.new_page()
                inbox.goto("/inbox")
                ticket = inbox.locator(".ticket", has_text="archive-bucket")
                ticket.get_by_label("bucketUrl").fill("https://archive-bucket.storage.internal")
                ticket.get_by_role("button", name="Mark done").click()
                expect(inbox.locator(".ticket", has_text="archive-bucket")).to_have_count(0)
                wait_for_state(page, "completed")
                assert_not_reloaded(page)
                expect(page.locator('#outputs [data-output="bucketUrl"]')).to_have_text(
                    "https://archive-bucket.storage.internal"
                )
                shot(page, "request-completed-after-escalation")
            finally:
                team.close()
                requester.close()
    finally:
        backend.stop()


def test_save_a_preset_and_start_a_new_request_from_it(page: Page) -> None:
    page.goto("/offerings/storage-bucket-standard/request")
    page.locator("#f-name").fill("reports-bucket")
    page.get_by_label("Storage Class").select_option("infrequent")
    page.get_by_label("Delete objects after (days)").fill("30")
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_url(re.compile(r"/requests/[^/]+$"))
    wait_for_state(page, "completed")
    page.get_by_role("button", name="Save as preset").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Cheap reports bucket")
    dialog.get_by_label("Description").fill("Infrequent access, 30 days")
    dialog.get_by_label("Visible to").select_option("team")
    shot(page, "save-preset-dialog")
    dialog.get_by_role("button", name="Save preset").click()
    page.locator("#preset-saved-link").click()
    page.wait_for_url(re.compile(r"/request\?preset="))
    expect(page.locator("#preset-notice")).to_contain_text("Cheap reports bucket")
    expect(page.locator("#f-name")).to_have_value("reports-bucket")
    expect(page.get_by_label("Storage Class")).to_have_value("infrequent")
    expect(page.get_by_label("Delete objects after (days)")).to_have_value("30")
    shot(page, "form-from-preset")
    page.goto("/presets")
    card = page.locator("#presets-list .card", has_text="Cheap reports bucket")
    expect(card).to_be_visible()
    card.get_by_role("button", name="Edit").click()
    page.get_by_role("dialog").get_by_label("Description").fill("Infrequent access, 30 days, EU")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(card).to_contain_text("30 days, EU")
    shot(page, "presets")
    page.locator("#presets-list .card", has_text="Cheap reports bucket").get_by_role(
        "link", name="New request from preset"
    ).click()
    page.locator("#f-name").fill("reports-bucket-2")
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_url(re.compile(r"/requests/[^/]+$"))
    wait_for_state(page, "completed")
