"""`make demo-heroku` and `make destroy` as a user runs them (scripts/demo.sh under its own demo name and port).

The demo deploys the bundled example app to the Heroku stand-in and prints its URL; the same command
again changes nothing; `make destroy` removes the app, the stand-in and its containers (about a minute).
"""

from __future__ import annotations

import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import REPO, clean_env

NAME = "hkdemo"
PORT = 18960


@dataclass(frozen=True)
class Runs:
    first: str
    second: str
    down: str
    containers_after_down: list[str]
    state_dir: Path


def demo(command: str, state_dir: Path) -> str:
    result = subprocess.run(
        ["scripts/demo.sh", command],
        cwd=REPO,
        env=clean_env(
            SOD_DEMO_NAME=NAME,
            SOD_DEMO_STATE_DIR=str(state_dir),
            SOD_DEMO_HEROKU_PORT=str(PORT),
            ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
            ANSIBLE_FORCE_COLOR="false",
        ),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def containers() -> list[str]:
    listed = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"name=^sod-{NAME}-", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


def health(url: str) -> str:
    with urllib.request.urlopen(f"{url}_stcore/health", timeout=10) as answer:
        return answer.read().decode()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    state_dir = tmp_path_factory.mktemp("demo") / NAME
    try:
        first = demo("heroku-up", state_dir)
        url = re.search(r"App URL (http://\S+)", first)
        assert url, first[-4000:]
        assert health(url.group(1)) == "ok"
        second = demo("heroku-up", state_dir)
        down = demo("down", state_dir)
        yield Runs(first, second, down, containers(), state_dir)
    finally:
        subprocess.run(
            ["scripts/demo.sh", "down"],
            cwd=REPO,
            env=clean_env(
                SOD_DEMO_NAME=NAME, SOD_DEMO_STATE_DIR=str(state_dir), ANSIBLE_CONFIG=str(REPO / "ansible.cfg")
            ),
            capture_output=True,
            check=False,
            timeout=600,
        )


def recaps(output: str) -> list[tuple[int, int]]:
    """(changed, failed) of each PLAY RECAP line for localhost."""
    return [(int(c), int(f)) for c, f in re.findall(r"localhost\s+: ok=\d+\s+changed=(\d+).*?failed=(\d+)", output)]


def test_demo_prints_the_app_url_on_the_stand_ins_router(runs: Runs) -> None:
    assert f"App URL http://127.0.0.1:{PORT}/" in runs.first


def test_demo_again_changes_nothing(runs: Runs) -> None:
    assert recaps(runs.second) == [(0, 0)]
    assert f"App URL http://127.0.0.1:{PORT}/" in runs.second


def test_destroy_removes_the_app_the_stand_in_and_its_containers(runs: Runs) -> None:
    assert f"Heroku demo {NAME} removed." in runs.down
    assert runs.containers_after_down == []
    assert not runs.state_dir.with_name(f"{NAME}-heroku").exists()
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        health(f"http://127.0.0.1:{PORT}/")
