"""`make demo` run a second time with the same inputs changes nothing and keeps every URL.

The converge ran site.yml once through the demo inventory. This fixture runs what
`make demo ARGS='-e ec2_launch_count=2'` runs (scripts/demo.sh up: the emulator,
demo/prepare.yml, site.yml, the twins' prune) for the e2e demo, and checks that
no play changed anything, that the same emulator and the same instances and
twins serve on the same ports and URLs, that the run names each App URL and the
CA file, and that no second emulator was started.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import CA_FILE, DEPLOYMENT, HTTP_PORT, HTTPS_PORT, STATE_DIR, app_url, demo, demo_settings, read_json


def moto_processes(state_dir: Path) -> list[int]:
    """Live moto servers whose command line or environment points at this demo's state."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"moto.server" in cmdline and str(state_dir / "moto").encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def rerun() -> dict[str, Any]:
    before = {"moto": read_json(STATE_DIR / "moto" / "moto.json"), "twins": read_json(STATE_DIR / "twins.json")}
    done = demo("up", "-e", "ec2_launch_count=2", settings=demo_settings(DEPLOYMENT, STATE_DIR, HTTPS_PORT, HTTP_PORT))
    return {
        "run": done,
        "before": before,
        "after": {"moto": read_json(STATE_DIR / "moto" / "moto.json"), "twins": read_json(STATE_DIR / "twins.json")},
        "emulators": moto_processes(STATE_DIR),
    }


def test_the_second_make_demo_succeeds(rerun: dict[str, Any]) -> None:
    assert rerun["run"].rc == 0, rerun["run"].stdout[-4000:] + rerun["run"].stderr[-2000:]


def test_the_second_make_demo_changes_nothing(rerun: dict[str, Any]) -> None:
    recaps = re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", rerun["run"].stdout, re.MULTILINE)
    assert len(recaps) >= 4, rerun["run"].stdout[-3000:]  # prepare.yml, then site.yml's localhost and 2 instances
    assert [host for host, changed in recaps if changed != "0"] == []


def test_the_second_make_demo_keeps_the_emulator(rerun: dict[str, Any]) -> None:
    assert rerun["after"]["moto"] == rerun["before"]["moto"]
    assert rerun["emulators"] == [rerun["before"]["moto"]["pid"]]


def test_the_second_make_demo_keeps_the_instances_and_their_urls(rerun: dict[str, Any]) -> None:
    assert rerun["after"]["twins"] == rerun["before"]["twins"]
    twins = rerun["after"]["twins"].values()
    for kind, first in (("https", HTTPS_PORT), ("http", HTTP_PORT)):
        assert sorted(twin[f"{kind}_port"] for twin in twins) == [first, first + 1]


def test_the_second_make_demo_prints_each_app_url_and_the_ca_file(rerun: dict[str, Any]) -> None:
    output = rerun["run"].stdout
    for twin in rerun["after"]["twins"].values():
        assert f"App URL {app_url(twin)}" in output
    assert f"CA file {CA_FILE}\n" in output
