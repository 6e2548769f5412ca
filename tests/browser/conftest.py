"""Browser fixtures: Debian's Chromium driven by Playwright, pages of the real web client.

Playwright's own browser download is not used: the tests launch /usr/bin/chromium (or
$CHROMIUM). Without it they are skipped with a loud reason, except in CI (CI=true),
where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from emulator.testing import ROOT, EmulatorProcess

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
VENDOR_JS = ROOT / "web" / "vendor" / "mqtt.min.js"
NPM_JS = ROOT / "node_modules" / "mqtt" / "dist" / "mqtt.min.js"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Collects what the page must never do: open a dialog, break the CSP, throw.
WATCH_SCRIPT = """
window.__watch = {csp: [], errors: []};
document.addEventListener('securitypolicyviolation', (e) => {
  window.__watch.csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
window.addEventListener('error', (e) => window.__watch.errors.push(String(e.message)));
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


def _require_chromium() -> None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return
    reason = (
        f"!!! BROWSER TESTS NOT RUN: no Chromium at {CHROMIUM}. "
        "Install Debian's chromium (apt-get install chromium) or set CHROMIUM=/path. !!!"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def web_vendor() -> Path:
    """mqtt.min.js where the page loads it from, copied from npm as `make setup` does."""
    if not VENDOR_JS.is_file():
        if not NPM_JS.is_file():
            pytest.fail(
                "web/vendor/mqtt.min.js missing and node_modules has no mqtt: run `make setup`"
            )
        VENDOR_JS.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NPM_JS, VENDOR_JS)
    return VENDOR_JS


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per module; each user gets a fresh context (profile).

    Not per session: Playwright's sync API keeps an event loop running in the main
    thread until it stops, and the asyncio tests that run after this suite need it gone.
    """
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # launch() runs Chromium on a new temporary user-data-dir, removed on close.
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ChatPage:
    """One user's tab, with what it saw that it should not have."""

    page: object
    base_url: str
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def open(self, room: str = "lobby") -> ChatPage:
        self.page.goto(f"{self.base_url}/{room}")
        return self

    def join(self, name: str) -> ChatPage:
        name_field = self.page.get_by_label("Name", exact=True)
        name_field.fill(name)
        name_field.press("Enter")
        self.wait_state("online")
        return self

    def wait_state(self, state: str, timeout: float = 30_000) -> None:
        self.page.locator(f'#status[data-state="{state}"]').wait_for(timeout=timeout)

    def state(self) -> str:
        return self.page.locator("#status").get_attribute("data-state")

    def send(self, text: str) -> None:
        self.page.get_by_label("Message", exact=True).fill(text)
        self.page.get_by_role("button", name="Send", exact=True).click()

    def messages(self):
        return self.page.locator("#messages > li.message")

    def texts(self) -> list[str]:
        return self.page.locator("#messages > li.message .text").all_inner_texts()

    def wait_text(self, text: str, timeout: float = 15_000) -> None:
        self.page.locator("#messages .text", has_text=text).first.wait_for(timeout=timeout)

    def watch(self) -> dict:
        return self.page.evaluate("window.__watch")

    def assert_clean(self) -> None:
        watch = self.watch()
        assert self.dialogs == [], f"the page opened dialogs: {self.dialogs}"
        assert watch["csp"] == [], f"Content-Security-Policy violations: {watch['csp']}"
        assert watch["errors"] == [], f"uncaught errors in the page: {watch['errors']}"


@pytest.fixture
def open_page(browser, web_vendor) -> Iterator[Callable[..., ChatPage]]:
    """Factory: open_page(server, room=..., viewport=...) -> a ChatPage in a fresh context."""
    contexts = []

    def factory(
        server: EmulatorProcess,
        room: str = "lobby",
        viewport: dict = DESKTOP,
        before_open: Callable[[object], None] | None = None,
    ) -> ChatPage:
        context = browser.new_context(viewport=viewport, service_workers="block")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.add_init_script(WATCH_SCRIPT)
        chat = ChatPage(page=page, base_url=server.base_url)

        def on_dialog(dialog) -> None:
            chat.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on(
            "console",
            lambda msg: chat.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        if before_open is not None:
            before_open(page)
        return chat.open(room)

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
