"""The web service converge.yml installs: a command in a tmux session, run by systemd.

The tests that kill, stop or rotate something have a fixture arrange it (and start the
unit again): each test starts from the web service up and answering.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from conftest import (
    WEB_LOG,
    WEB_LOGROTATE,
    WEB_PORT,
    WEB_UNIT,
    WORKER_PORT,
    WORKER_UNIT,
    answers,
    as_user,
    command_pid,
    wait_for,
)
from testinfra.host import Host

INTERRUPTED = "Keyboard interrupt received, exiting."


def test_the_unit_is_enabled_and_active(web: Host) -> None:
    service = web.service(WEB_UNIT)
    assert service.is_enabled
    assert service.is_running


def test_the_session_exists_for_the_service_user(web: Host) -> None:
    assert web.run(as_user("web", "tmux has-session -t =web")).rc == 0


def test_the_session_runs_the_command(web: Host) -> None:
    panes = web.check_output(as_user("web", "tmux list-panes -t =web: -F '#{pane_current_command}'"))
    assert panes.split() == ["python3"]


def test_the_command_runs_as_the_service_user(web: Host) -> None:
    pid = command_pid(web, "web", WEB_PORT)
    assert pid is not None
    assert web.check_output(f"ps -o user= -p {pid}").strip() == "web"


def test_the_command_runs_in_the_working_directory(web: Host) -> None:
    assert web.check_output(f"curl -sf http://127.0.0.1:{WEB_PORT}/") == "served from /srv/web"


def test_attaching_to_the_session_shows_the_commands_output(web: Host) -> None:
    screen = web.check_output(as_user("web", "tmux capture-pane -p -t =web:"))
    assert f"Serving HTTP on 127.0.0.1 port {WEB_PORT}" in screen


def test_the_log_file_receives_the_commands_output(web: Host) -> None:
    marker = f"/probe-{uuid.uuid4().hex}"
    web.run(f"curl -s -o /dev/null http://127.0.0.1:{WEB_PORT}{marker}")
    assert wait_for(lambda: marker in web.file(WEB_LOG).content_string, timeout=5)


def test_logrotate_rotates_the_log_file_daily_from_10_mb(web: Host) -> None:
    config = web.file(WEB_LOGROTATE)
    assert (config.user, config.group, config.mode) == ("root", "root", 0o644)
    debug = web.run(f"logrotate --debug {WEB_LOGROTATE}")
    assert debug.rc == 0, debug.stderr
    # logrotate 3.21 (Debian 12) and 3.22 (Debian 13) word the line differently.
    pattern = next(line for line in (debug.stdout + debug.stderr).splitlines() if line.startswith("rotating pattern:"))
    assert pattern.split()[2:4] == [WEB_LOG, "10485760"]
    assert "(5 rotations)" in pattern
    timer = web.service("logrotate.timer")
    assert timer.is_enabled
    assert timer.is_running


@pytest.fixture
def rotated(web: Host) -> tuple[Host, str]:
    """The web log rotated by force (logrotate --force) right after a request marked OLD reached it."""
    old = f"/old-{uuid.uuid4().hex}"
    web.run(f"curl -s -o /dev/null http://127.0.0.1:{WEB_PORT}{old}")
    assert wait_for(lambda: old in web.file(WEB_LOG).content_string, timeout=5)
    web.check_output(f"logrotate --force {WEB_LOGROTATE}")
    return web, old


def test_a_rotation_keeps_the_old_output_and_the_log_going(rotated: tuple[Host, str]) -> None:
    """copytruncate: the pane goes on appending to the emptied file, at its new end (no hole of NULs)."""
    web, old = rotated
    new = f"/new-{uuid.uuid4().hex}"
    assert old in web.file(f"{WEB_LOG}.1").content_string
    web.run(f"curl -s -o /dev/null http://127.0.0.1:{WEB_PORT}{new}")
    assert wait_for(lambda: new in web.file(WEB_LOG).content_string, timeout=5)
    content = web.file(WEB_LOG).content
    assert old.encode() not in content
    assert b"\0" not in content


def test_the_command_gets_the_environment_exactly(web: Host) -> None:
    pid = command_pid(web, "web", WEB_PORT)
    environ = web.check_output(f"tr '\\0' '\\n' < /proc/{pid}/environ").splitlines()
    assert "GREETING=hello \"world\" $HOME `date` %n \\ 'quoted'" in environ
    assert "PORT=8080" in environ


def test_the_unit_carries_the_extra_settings(web: Host) -> None:
    assert web.check_output(f"systemctl show --property Nice --value {WEB_UNIT}") == "5"


@pytest.fixture
def killed(web: Host) -> tuple[Host, int | None]:
    """The web command killed (SIGKILL), and its PID."""
    old_pid = command_pid(web, "web", WEB_PORT)
    web.run(f"kill -KILL {old_pid}")
    return web, old_pid


def test_killing_the_command_brings_it_back_within_10_seconds(killed: tuple[Host, int | None]) -> None:
    web, old_pid = killed

    def back() -> bool:
        new_pid = command_pid(web, "web", WEB_PORT)
        return new_pid not in (None, old_pid) and answers(web, WEB_PORT)

    assert wait_for(back, timeout=10)


@pytest.fixture
def stopped(web: Host) -> Iterator[tuple[Host, int]]:
    """The web unit stopped while it answered, with how many interrupts its log held before; started again after."""
    interrupts = web.file(WEB_LOG).content_string.count(INTERRUPTED)
    assert wait_for(lambda: answers(web, WEB_PORT))
    web.run(f"systemctl stop {WEB_UNIT}")
    try:
        yield web, interrupts
    finally:
        web.run(f"systemctl start {WEB_UNIT}")


def test_stopping_the_unit_ends_the_session(stopped: tuple[Host, int]) -> None:
    web, _ = stopped
    assert web.run(as_user("web", "tmux has-session -t =web")).rc != 0
    assert web.run("pgrep -u web").rc == 1


def test_stopping_the_unit_interrupts_the_command_through_its_terminal(stopped: tuple[Host, int]) -> None:
    """Ctrl-c reaches the command while its pane still exists: it ends on its own, nothing is killed."""
    web, before = stopped
    assert wait_for(lambda: web.file(WEB_LOG).content_string.count(INTERRUPTED) > before, timeout=5)
    assert web.check_output(f"systemctl show --property Result --value {WEB_UNIT}") == "success"
    journal = web.check_output(f"journalctl -u {WEB_UNIT} --since '-1min' --no-pager")
    assert "timed out" not in journal
    assert "Killing process" not in journal


def test_a_unit_name_may_carry_the_service_suffix(host: Host) -> None:
    assert host.service(WORKER_UNIT).is_running
    assert wait_for(lambda: answers(host, WORKER_PORT))


def test_a_second_service_runs_in_its_own_users_session(host: Host) -> None:
    assert host.run(as_user("worker", "tmux has-session -t =worker")).rc == 0
    assert host.check_output(f"ps -o group= -p {command_pid(host, 'worker', WORKER_PORT)}").strip() == "workers"


def test_an_empty_log_file_setting_writes_no_log(host: Host) -> None:
    assert not host.file("/var/log/tmux-service/worker.log").exists
    assert 'TMUX_SERVICE_LOG_FILE=""' in host.file("/etc/streamlit-ops/tmux-service/worker.env").content_string
    assert not host.file("/etc/logrotate.d/tmux-service-worker").exists
