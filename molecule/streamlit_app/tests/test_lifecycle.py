"""Redeploys on Debian 13: no-op re-run, new versions, failures that keep the last good release serving.

The tests run in file order; each deploys on top of what the previous one left.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import testinfra
from conftest import BASE, HEALTH, SECRET, Run, current_release, served_release, service_started_at

testinfra_hosts: list[str] = []
NEW_SECRET = "molecule-rotated-2b8d1"


class HealthPoller:
    """Polls the health endpoint in a background thread while a deploy runs."""

    def __init__(self, host: testinfra.host.Host) -> None:
        self.host = host
        self.answers: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(1.0):
            self.answers.append(self.host.run(HEALTH).stdout.strip())

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def v1_release(app_host: testinfra.host.Host) -> str:
    return current_release(app_host)


@pytest.fixture(scope="module")
def rerun(app_host: testinfra.host.Host, playbook: Callable[..., Run], v1_release: str) -> tuple[Run, str]:
    before = service_started_at(app_host)
    return playbook({}), before


def test_a_rerun_changes_nothing(rerun: tuple[Run, str]) -> None:
    run, _ = rerun
    assert run.rc == 0, run.output[-3000:]
    assert "changed=0" in run.output


def test_a_rerun_does_not_restart_the_service(rerun: tuple[Run, str], app_host: testinfra.host.Host) -> None:
    assert service_started_at(app_host) == rerun[1]


@pytest.fixture(scope="module")
def v2(playbook: Callable[..., Run], rerun: tuple[Run, str]) -> Run:
    secrets = {"greeting": "Hello", "database": {"password": NEW_SECRET}}
    return playbook({"streamlit_app_version": "v2", "streamlit_app_secrets": secrets})


def test_a_new_version_deploys(v2: Run) -> None:
    assert v2.rc == 0, v2.output[-3000:]


def test_the_new_version_is_live(v2: Run, app_host: testinfra.host.Host) -> None:
    assert '"version": "v2"' in app_host.file(f"{current_release(app_host)}/release.json").content_string
    assert served_release(app_host) == current_release(app_host)


def test_the_previous_release_is_kept(v2: Run, app_host: testinfra.host.Host, v1_release: str) -> None:
    assert app_host.file(f"{BASE}/previous").linked_to == v1_release
    assert app_host.file(f"{v1_release}/venv/bin/streamlit").exists


def test_secret_values_never_reach_the_play_output(v2: Run, rerun: tuple[Run, str]) -> None:
    for output in (v2.output, rerun[0].output):
        assert SECRET not in output
        assert NEW_SECRET not in output


@pytest.fixture(scope="module")
def constrained(playbook: Callable[..., Run], v2: Run, app_host: testinfra.host.Host) -> tuple[Run, str]:
    live = current_release(app_host)
    return playbook({"streamlit_app_version": "v2", "streamlit_app_pip_constraints": ["pyarrow<27"]}), live


def test_new_constraints_build_a_new_release_of_the_same_commit(
    constrained: tuple[Run, str], app_host: testinfra.host.Host
) -> None:
    run, old = constrained
    assert run.rc == 0, run.output[-3000:]
    new = current_release(app_host)
    source = '"source": "git:'
    old_marker = app_host.file(f"{old}/release.json").content_string
    new_marker = app_host.file(f"{new}/release.json").content_string
    assert new != old
    assert [line for line in old_marker.splitlines() if source in line] == [
        line for line in new_marker.splitlines() if source in line
    ]
    assert "pyarrow<27" in new_marker
    assert "pyarrow" not in old_marker


def test_the_release_built_before_stays_untouched(constrained: tuple[Run, str], app_host: testinfra.host.Host) -> None:
    assert app_host.file(f"{constrained[1]}/venv/bin/streamlit").exists


def deploy_failing(
    playbook: Callable[..., Run], host: testinfra.host.Host, extra: dict[str, object]
) -> tuple[Run, str, list[str]]:
    live = current_release(host)
    with HealthPoller(host) as poller:
        run = playbook(extra)
    return run, live, poller.answers


@pytest.fixture(scope="module")
def conflict(
    playbook: Callable[..., Run], app_host: testinfra.host.Host, constrained: tuple[Run, str]
) -> tuple[Run, str, list[str]]:
    return deploy_failing(playbook, app_host, {"streamlit_app_version": "conflict"})


def test_conflicting_requirements_fail_the_play_naming_the_conflict(conflict: tuple[Run, str, list[str]]) -> None:
    run = conflict[0]
    assert run.rc != 0
    assert "packaging==16.8" in run.output
    assert "conflict" in run.output.lower()


def test_the_live_release_answers_throughout_a_failing_build(conflict: tuple[Run, str, list[str]]) -> None:
    answers = conflict[2]
    assert len(answers) >= 3
    assert set(answers) == {"ok"}


def test_the_live_release_stays_after_a_failing_build(
    conflict: tuple[Run, str, list[str]], app_host: testinfra.host.Host
) -> None:
    assert current_release(app_host) == conflict[1] == served_release(app_host)


@pytest.fixture(scope="module")
def broken(
    playbook: Callable[..., Run], app_host: testinfra.host.Host, conflict: tuple[Run, str, list[str]]
) -> tuple[Run, str, list[str]]:
    return deploy_failing(playbook, app_host, {"streamlit_app_version": "broken"})


def test_a_script_raising_on_import_fails_the_play_quoting_the_traceback(broken: tuple[Run, str, list[str]]) -> None:
    run = broken[0]
    assert run.rc != 0
    assert "Traceback" in run.output
    assert "RuntimeError: hello_streamlit: the data source is not configured" in run.output


def test_the_previous_release_still_serves_after_a_broken_script(
    broken: tuple[Run, str, list[str]], app_host: testinfra.host.Host
) -> None:
    assert set(broken[2]) == {"ok"}
    assert current_release(app_host) == broken[1] == served_release(app_host)


@pytest.fixture(scope="module")
def unhealthy(
    playbook: Callable[..., Run], app_host: testinfra.host.Host, broken: tuple[Run, str, list[str]]
) -> tuple[Run, str]:
    live = current_release(app_host)
    return playbook({"streamlit_app_version": "unhealthy", "streamlit_app_health_timeout": 20}), live


def test_a_server_that_does_not_come_up_fails_the_play_and_rolls_back(unhealthy: tuple[Run, str]) -> None:
    run = unhealthy[0]
    assert run.rc != 0
    assert "Rolled back" in run.output


def test_the_rolled_back_release_serves_again(unhealthy: tuple[Run, str], app_host: testinfra.host.Host) -> None:
    assert app_host.check_output(HEALTH) == "ok"
    assert current_release(app_host) == unhealthy[1] == served_release(app_host)


@pytest.fixture(scope="module")
def from_src(playbook: Callable[..., Run], unhealthy: tuple[Run, str]) -> Run:
    src = Path(__file__).resolve().parents[3] / "examples" / "hello_streamlit"
    return playbook({"streamlit_app_repo": "", "streamlit_app_src": str(src)})


def test_an_app_deploys_from_a_local_directory(from_src: Run, app_host: testinfra.host.Host) -> None:
    assert from_src.rc == 0, from_src.output[-3000:]
    assert '"source": "src:' in app_host.file(f"{current_release(app_host)}/release.json").content_string
    assert app_host.check_output(HEALTH) == "ok"


BAD_INPUTS = [
    ({"streamlit_app_src": "/tmp"}, "streamlit_app_repo"),
    ({"streamlit_app_repo": ""}, "streamlit_app_src"),
    ({"streamlit_app_entrypoint": "../../etc/app.py"}, "streamlit_app_entrypoint"),
    ({"streamlit_app_port": 70000}, "streamlit_app_port"),
    ({"streamlit_app_config": {"sever": {"port": 1}}}, "streamlit_app_config"),
]


@pytest.mark.parametrize(("extra", "variable"), BAD_INPUTS, ids=[v for _, v in BAD_INPUTS])
def test_bad_input_fails_before_any_change_naming_the_variable(
    playbook: Callable[..., Run], from_src: Run, extra: dict[str, object], variable: str
) -> None:
    run = playbook(extra)
    assert run.rc != 0
    assert variable in run.output
    assert "changed=0" in run.output


def test_releases_beyond_keep_releases_are_pruned(
    from_src: Run, app_host: testinfra.host.Host, v1_release: str
) -> None:
    assert not app_host.file(v1_release).exists
    assert app_host.file(app_host.file(f"{BASE}/previous").linked_to).is_directory
