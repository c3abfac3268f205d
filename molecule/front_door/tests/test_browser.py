"""A real browser opens each app through its front door, trusting Pebble's root in its own profile only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DOMAIN, DOMAIN_HOST, IP_HOST, USERS, address_of
from playwright.sync_api import Browser, Page

from tests.support.browser import launched

testinfra_hosts: list[str] = []
RENDER_TIMEOUT_MS = 60_000
ARTEFACTS = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", ".")) / ".cache" / "test-artefacts" / "front_door"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, pebble_root: Path) -> Iterator[Browser]:
    # Pebble's root, trusted by this browser's own profile only. The test domain resolves only
    # in Pebble's DNS: the browser is told where it lives.
    rules = f"--host-resolver-rules=MAP {DOMAIN} {address_of(DOMAIN_HOST)}"
    home = tmp_path_factory.mktemp("browser-home")
    with launched(trusting=pebble_root.read_text(), home=home, args=[rules]) as chromium:
        yield chromium


def use_the_widget(page: Page) -> None:
    """Type into the number input: the doubled value comes back over the websocket."""
    page.get_by_text("Doubled: 2").wait_for(timeout=RENDER_TIMEOUT_MS)
    page.locator("input[type=number]").fill("21")
    page.keyboard.press("Enter")
    page.get_by_text("Doubled: 42").wait_for(timeout=RENDER_TIMEOUT_MS)


def test_the_domain_app_renders_and_answers_its_widget(browser: Browser) -> None:
    context = browser.new_context(http_credentials={"username": USERS[0]["name"], "password": USERS[0]["password"]})
    page = context.new_page()
    page.goto(f"https://{DOMAIN}/")
    use_the_widget(page)
    page.get_by_text("Forwarded proto: https").wait_for(timeout=RENDER_TIMEOUT_MS)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "domain.png"), full_page=True)
    context.close()


def test_the_ip_app_renders_under_its_base_path_and_takes_an_upload(browser: Browser, tmp_path: Path) -> None:
    # 20 MB: over nginx's default 1 MB, under the app's 50 MB.
    upload = tmp_path / "data.bin"
    upload.write_bytes(b"\0" * (20 * 1024 * 1024))
    page = browser.new_page()
    page.goto(f"http://{address_of(IP_HOST)}/")  # the redirects lead to https://<address>/dash/
    use_the_widget(page)
    assert page.url == f"https://{address_of(IP_HOST)}/dash/"
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text(f"Received {20 * 1024 * 1024} bytes").wait_for(timeout=RENDER_TIMEOUT_MS)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "ip-address.png"), full_page=True)
    page.close()
