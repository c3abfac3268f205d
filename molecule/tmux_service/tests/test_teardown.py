"""State absent, run by side_effect.yml on a third, running service: the unit and its files are gone."""

from __future__ import annotations

import pytest
from testinfra.host import Host


@pytest.mark.parametrize(
    "path",
    [
        "/etc/systemd/system/tmux-scratch.service",
        "/etc/streamlit-ops/tmux-service/tmux-scratch.env",
        "/var/log/scratch/scratch.log",
        "/var/log/scratch/scratch.log.1",
        "/var/log/scratch/scratch.log.2.gz",
        "/etc/logrotate.d/tmux-service-tmux-scratch",
    ],
)
def test_state_absent_removes_the_units_files(host: Host, path: str) -> None:
    assert not host.file(path).exists


def test_state_absent_leaves_no_unit_loaded(host: Host) -> None:
    assert host.check_output("systemctl show --property LoadState --value tmux-scratch.service") == "not-found"


def test_state_absent_ends_the_session(host: Host) -> None:
    assert host.run("pgrep -u scratch").rc == 1


def test_state_absent_leaves_the_log_directory_it_did_not_create(host: Host) -> None:
    assert host.file("/var/log/scratch").is_directory
