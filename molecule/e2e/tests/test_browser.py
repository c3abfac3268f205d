"""A real browser opens each deployed app at its App URL, over HTTPS, and uses a widget over the websocket.

The browser trusts Pebble's roots (the demo's CA file) in a throwaway profile of its own:
nothing else on this machine trusts them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CA_FILE, DEPLOYMENT, app_url
from playwright.sync_api import Browser, WebSocket, expect

from tests.support.browser import launched

RENDER_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    # Pebble's roots (each start of Pebble makes one; the CA file keeps them all), trusted by this
    # browser's own profile only. Chromium resolves *.localhost to loopback by itself.
    with launched(trusting=CA_FILE.read_text(), home=tmp_path_factory.mktemp("browser-home")) as chromium:
        yield chromium


def test_two_instances_were_launched_with_a_twin_each(twins: dict[str, dict[str, Any]], ec2: Any) -> None:
    filters = [
        {"Name": "tag:streamlit_ops_deployment", "Values": [DEPLOYMENT]},
        {"Name": "tag:streamlit_ops_managed_by", "Values": ["streamlit_ops.deploy"]},
        {"Name": "instance-state-name", "Values": ["running"]},
    ]
    reservations = ec2.describe_instances(Filters=filters)["Reservations"]
    running = sorted(i["InstanceId"] for r in reservations for i in r["Instances"])
    assert sorted(t["instance_id"] for t in twins.values()) == running
    assert len(running) == 2


@pytest.mark.parametrize("index", [0, 1])
def test_the_app_renders_over_https_and_answers_a_widget(
    index: int, twins: dict[str, dict[str, Any]], browser: Browser, artefacts: Path
) -> None:
    twin = sorted(twins.values(), key=lambda t: t["https_port"])[index]
    url = app_url(twin)
    sockets: list[WebSocket] = []
    received: list[Any] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def on_frame(payload: Any) -> None:
        received.append(payload)

    def watch(socket: WebSocket) -> None:
        sockets.append(socket)
        socket.on("framereceived", on_frame)  # Playwright takes functions, not bound builtins

    page.on("websocket", watch)
    page.goto(url)
    # The HTML shell holds none of this: the script's output arrives over the websocket.
    page.get_by_text("Release v1").wait_for(timeout=RENDER_TIMEOUT_MS)
    page.locator("[data-testid='stVegaLiteChart'], .vega-embed").first.wait_for(timeout=RENDER_TIMEOUT_MS)
    assert page.url == url
    assert [socket.url for socket in sockets] == [f"wss://{twin['name']}:{twin['https_port']}/_stcore/stream"]
    assert page.locator("h1").first.inner_text() == "Hello Streamlit"
    # Move the slider one step: the browser sends the new value, the script runs again on the
    # server and its output comes back over the same websocket.
    page.wait_for_timeout(1000)  # let the first run's messages settle
    before = len(received)
    slider = page.get_by_role("slider")
    slider.focus()
    page.keyboard.press("ArrowRight")
    # Retried until it holds (the widget is re-rendered while the script runs again).
    expect(slider).to_have_value("105", timeout=RENDER_TIMEOUT_MS)  # an <input type=range>
    deadline = time.monotonic() + RENDER_TIMEOUT_MS / 1000
    while len(received) == before and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert len(received) > before, "the server sent nothing back after the widget changed"
    page.get_by_text("Release v1").wait_for(timeout=RENDER_TIMEOUT_MS)
    page.screenshot(path=str(artefacts / f"{twin['instance_id']}.png"), full_page=True)
    page.close()
