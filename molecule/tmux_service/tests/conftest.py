"""Shared helpers for the tmux_service scenario: the units converge.yml installs."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from testinfra.host import Host

WEB_UNIT = "tmux-web.service"
WEB_PORT = 8080
WEB_LOG = "/var/log/tmux-service/web.log"
WEB_LOGROTATE = "/etc/logrotate.d/tmux-service-tmux-web"
WORKER_UNIT = "worker.service"
WORKER_PORT = 8081


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll check() every half second until it holds or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


def answers(host: Host, port: int) -> bool:
    return host.run(f"curl -sf -o /dev/null http://127.0.0.1:{port}/").rc == 0


def command_pid(host: Host, user: str, port: int) -> int | None:
    """PID of the test command (python3 -m http.server <port>) run by user, if it runs."""
    result = host.run(f"pgrep -u {user} -f '^python3 -m http.server {port}'")
    return int(result.stdout.split()[0]) if result.rc == 0 else None


def as_user(user: str, command: str) -> str:
    return f"sudo -u {user} {command}"


@pytest.fixture
def web(host: Host) -> Host:
    """The host with the web service up and answering (whatever a fixture stopped or killed before)."""
    if not answers(host, WEB_PORT):
        host.run(f"systemctl start {WEB_UNIT}")
    assert wait_for(lambda: answers(host, WEB_PORT)), f"{WEB_UNIT} does not answer on port {WEB_PORT}"
    return host
