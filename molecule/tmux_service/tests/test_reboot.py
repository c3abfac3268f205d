"""Restarting the container (a reboot for the services) brings both services back."""

from __future__ import annotations

import subprocess

from conftest import WEB_PORT, WEB_UNIT, WORKER_PORT, answers, as_user, wait_for
from testinfra.host import Host


def test_restarting_the_container_brings_the_services_back(host: Host) -> None:
    name = host.backend.get_hostname()
    subprocess.run(["docker", "restart", "--time", "20", name], check=True, capture_output=True)

    assert wait_for(lambda: answers(host, WEB_PORT) and answers(host, WORKER_PORT), timeout=60)
    assert host.service(WEB_UNIT).is_running
    assert host.run(as_user("web", "tmux has-session -t =web")).rc == 0
