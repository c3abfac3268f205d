"""Re-runs of the role, recorded by converge.yml and side_effect.yml: same inputs restart nothing."""

from __future__ import annotations

from conftest import WEB_PORT, command_pid
from testinfra.host import Host


def main_pids(host: Host, moment: str) -> list[str]:
    """Main PIDs of tmux-web and worker as side_effect.yml recorded them at that moment."""
    return host.file(f"/var/tmp/sod-pids-{moment}").content_string.split()


def test_the_idempotence_and_check_runs_restart_nothing(host: Host) -> None:
    converged = main_pids(host, "converged")
    assert len(converged) == 2
    assert "0" not in converged
    assert main_pids(host, "before-release") == converged


def test_a_new_environment_restarts_every_changed_unit(host: Host) -> None:
    same, new = main_pids(host, "before-release"), main_pids(host, "new-release")
    assert "0" not in new
    assert [a != b for a, b in zip(same, new, strict=True)] == [True, True]


def test_the_restarted_command_sees_the_new_environment(host: Host) -> None:
    pid = command_pid(host, "web", WEB_PORT)
    assert "RELEASE=2" in host.check_output(f"tr '\\0' '\\n' < /proc/{pid}/environ").splitlines()
