"""Restarting the container (a reboot for the services) brings both services back."""

from __future__ import annotations

import subprocess

import pytest
from conftest import WEB_PORT, WEB_UNIT, WORKER_PORT, answers, as_user, wait_for
from testinfra.host import Host


@pytest.fixture
def rebooted(host: Host) -> Host:
    """The host's container restarted, as a reboot would (the services come back by themselves, or not)."""
    subprocess.run(["docker", "restart", "--time", "20", host.backend.get_hostname()], check=True, capture_output=True)
    return host


def test_restarting_the_container_brings_the_services_back(rebooted: Host) -> None:
    assert wait_for(lambda: answers(rebooted, WEB_PORT) and answers(rebooted, WORKER_PORT), timeout=60)
    assert rebooted.service(WEB_UNIT).is_running
    assert rebooted.run(as_user("web", "tmux has-session -t =web")).rc == 0
