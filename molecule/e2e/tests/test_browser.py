"""A real browser renders each deployed app: text that only the app's websocket delivers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RENDER_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Any:
    playwright: Playwright
    with sync_playwright() as playwright:
        # A fresh, empty profile per launch; Debian's chromium, never a downloaded one.
        launched: Browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_two_instances_were_launched_with_a_twin_each(twins: dict[str, dict[str, Any]], ec2: Any) -> None:
    filters = [
        {"Name": "tag:streamlit_ops_deployment", "Values": ["e2e"]},
        {"Name": "tag:streamlit_ops_managed_by", "Values": ["streamlit_ops.deploy"]},
        {"Name": "instance-state-name", "Values": ["running"]},
    ]
    reservations = ec2.describe_instances(Filters=filters)["Reservations"]
    running = sorted(i["InstanceId"] for r in reservations for i in r["Instances"])
    assert sorted(t["instance_id"] for t in twins.values()) == running
    assert len(running) == 2


@pytest.mark.parametrize("index", [0, 1])
def test_the_app_renders_in_a_browser(
    index: int, twins: dict[str, dict[str, Any]], browser: Browser, artefacts: Path
) -> None:
    twin = sorted(twins.values(), key=lambda t: t["app_port"])[index]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"http://127.0.0.1:{twin['app_port']}/")
    # The HTML shell holds none of this: the script's output arrives over the websocket.
    page.get_by_text("Release v1").wait_for(timeout=RENDER_TIMEOUT_MS)
    page.get_by_text("Days of data").wait_for(timeout=RENDER_TIMEOUT_MS)
    page.locator("[data-testid='stVegaLiteChart'], .vega-embed").first.wait_for(timeout=RENDER_TIMEOUT_MS)
    page.screenshot(path=str(artefacts / f"{twin['instance_id']}.png"), full_page=True)
    assert page.locator("h1").first.inner_text() == "Hello Streamlit"
    page.close()
