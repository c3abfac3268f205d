"""Redeploys on Debian 13: new versions, failures that keep the last good release serving, bad input.

The tests run in file order; each deploy builds on what the previous one left.
"""

from __future__ import annotations

import re
import shlex
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import testinfra
from conftest import (
    APP_HOST,
    BASE,
    HEALTH,
    SECRET,
    Outcome,
    Run,
    changed_count,
    current_release,
    run_cases,
    served_release,
    service_starts,
)

testinfra_hosts: list[str] = []
# A deploy watched by RequestLog: the run, the statuses, and (for an update) how often the unit started.
Update = tuple[Run, list[str], int]
Unhealthy = tuple[Run, str, list[str]]
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


class RequestLog:
    """Requests the health endpoint and the page every 50 ms from inside the host while a deploy runs.

    Each line of the log is the HTTP status of both ("200 200" when the app served both;
    000 when the connection was refused or reset).
    """

    LOG = "/var/tmp/sod-requests.log"
    FLAG = "/var/tmp/sod-requests.on"
    LOOP = (
        f"while [ -e {FLAG} ]; do "
        "h=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:8501/_stcore/health); "
        "p=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:8501/); "
        f'echo "$h $p" >>{LOG}; sleep 0.05; done'
    )

    def __init__(self, host: testinfra.host.Host) -> None:
        self.host = host
        self.statuses: list[str] = []

    def __enter__(self) -> RequestLog:
        self.host.check_output(
            f"rm -f {self.LOG} && touch {self.FLAG} && "
            f"(setsid sh -c {shlex.quote(self.LOOP)} </dev/null >/dev/null 2>&1 &)"
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.host.run(f"rm -f {self.FLAG}")
        time.sleep(1)
        self.statuses = self.host.file(self.LOG).content_string.splitlines()


@pytest.fixture(scope="module")
def outcomes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outcomes")


@pytest.fixture(scope="module")
def v1_release(app_host: testinfra.host.Host) -> str:
    return current_release(app_host)


@pytest.fixture(scope="module")
def v2_update(playbook: Callable[..., Run], v1_release: str, app_host: testinfra.host.Host) -> Update:
    """Deploy v2 over v1 while requests go on; the run, their statuses, and the unit's starts meanwhile."""
    secrets = {"greeting": "Hello", "database": {"password": NEW_SECRET}}
    starts = service_starts(app_host)
    with RequestLog(app_host) as requests:
        run = playbook({"streamlit_app_version": "v2", "streamlit_app_secrets": secrets})
    return run, requests.statuses, service_starts(app_host) - starts


@pytest.fixture(scope="module")
def v2(v2_update: Update) -> Run:
    return v2_update[0]


def test_a_new_version_deploys(v2: Run) -> None:
    assert v2.rc == 0, v2.output[-3000:]


def test_the_new_version_is_live(v2: Run, app_host: testinfra.host.Host) -> None:
    assert '"version": "v2"' in app_host.file(f"{current_release(app_host)}/release.json").content_string
    assert served_release(app_host) == current_release(app_host)


def test_the_update_turned_no_request_away(v2_update: Update) -> None:
    statuses = v2_update[1]
    assert len(statuses) >= 20
    assert [line for line in statuses if line != "200 200"] == []


def test_the_update_handed_over_without_restarting_the_service(v2_update: Update) -> None:
    assert "RUNNING HANDLER [streamlit_ops.deploy.tmux_service : Hand over tmux service]" in v2_update[0].output
    assert v2_update[2] == 0


def test_the_previous_release_is_kept(v2: Run, app_host: testinfra.host.Host, v1_release: str) -> None:
    assert app_host.file(f"{BASE}/previous").linked_to == v1_release
    assert app_host.file(f"{v1_release}/venv/bin/streamlit").exists


def test_secret_values_never_reach_the_play_output(v2: Run) -> None:
    assert SECRET not in v2.output
    assert NEW_SECRET not in v2.output


def test_the_run_ends_with_the_app_url_and_the_tmux_attach_line(v2: Run) -> None:
    assert f"App URL http://{APP_HOST}:8501/" in v2.output
    assert re.search(
        rf"^\s*ssh (\S+@)?{APP_HOST} -t 'sudo -u streamlit tmux attach -t streamlit-hello'$", v2.output, re.M
    )


def test_the_printed_url_serves_the_app(v2: Run, app_host: testinfra.host.Host) -> None:
    page = app_host.check_output(f"curl -fsS --max-time 5 http://{APP_HOST}:8501/")
    assert '<div id="root">' in page


def test_the_printed_tmux_session_runs_as_the_app_user(v2: Run, app_host: testinfra.host.Host) -> None:
    assert app_host.run("sudo -u streamlit tmux has-session -t streamlit-hello").rc == 0


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


@pytest.fixture(scope="module")
def failing_builds(
    app_host: testinfra.host.Host, outcomes_dir: Path, constrained: tuple[Run, str]
) -> tuple[dict[str, Outcome], str, list[str]]:
    """Deploy a conflicting and a broken version in one run, polling the live release meanwhile."""
    live = current_release(app_host)
    with HealthPoller(app_host) as poller:
        _, outcomes = run_cases("failing_builds.yml", outcomes_dir)
    return outcomes, live, poller.answers


def test_conflicting_requirements_fail_the_play_naming_the_conflict(
    failing_builds: tuple[dict[str, Outcome], str, list[str]],
) -> None:
    outcome = failing_builds[0]["conflict"]
    assert outcome.failed
    assert "packaging==16.8" in outcome.msg
    # pip says "conflict", uv "unsatisfiable".
    assert "conflict" in outcome.msg.lower() or "unsatisfiable" in outcome.msg.lower()


def test_a_script_raising_on_import_fails_the_play_quoting_the_traceback(
    failing_builds: tuple[dict[str, Outcome], str, list[str]],
) -> None:
    outcome = failing_builds[0]["broken"]
    assert outcome.failed
    assert "Traceback" in outcome.msg
    assert "RuntimeError: hello_streamlit: the data source is not configured" in outcome.msg


def test_the_live_release_answers_throughout_the_failing_builds(
    failing_builds: tuple[dict[str, Outcome], str, list[str]],
) -> None:
    answers = failing_builds[2]
    assert len(answers) >= 3
    assert set(answers) == {"ok"}


def test_the_live_release_stays_after_the_failing_builds(
    failing_builds: tuple[dict[str, Outcome], str, list[str]], app_host: testinfra.host.Host
) -> None:
    assert current_release(app_host) == failing_builds[1] == served_release(app_host)


def test_failed_releases_stay_on_disk_for_inspection(
    failing_builds: tuple[dict[str, Outcome], str, list[str]], app_host: testinfra.host.Host
) -> None:
    for case in ("conflict", "broken"):
        failed_dir = re.search(r"stays in (\S+) for inspection", failing_builds[0][case].msg)
        assert failed_dir, failing_builds[0][case].msg
        assert app_host.file(f"{failed_dir.group(1)}/src").is_directory


@pytest.fixture(scope="module")
def unhealthy(
    playbook: Callable[..., Run],
    app_host: testinfra.host.Host,
    failing_builds: tuple[dict[str, Outcome], str, list[str]],
) -> Unhealthy:
    live = current_release(app_host)
    with RequestLog(app_host) as requests:
        run = playbook({"streamlit_app_version": "unhealthy", "streamlit_app_health_timeout": 10})
    return run, live, requests.statuses


def test_a_server_that_does_not_come_up_fails_the_play_and_rolls_back(unhealthy: Unhealthy) -> None:
    run = unhealthy[0]
    assert run.rc != 0
    assert "Rolled back" in run.output
    # The handover failed (systemd's reload job), and the new server's log says why.
    assert "failed: Hand over tmux service: Unable to reload service streamlit-hello.service" in run.output
    assert "FileNotFoundError" in run.output


def test_the_live_release_served_every_request_while_the_new_one_failed(unhealthy: Unhealthy) -> None:
    statuses = unhealthy[2]
    assert len(statuses) >= 20
    assert [line for line in statuses if line != "200 200"] == []


def test_the_rolled_back_release_serves_again(unhealthy: Unhealthy, app_host: testinfra.host.Host) -> None:
    assert app_host.check_output(HEALTH) == "ok"
    assert current_release(app_host) == unhealthy[1] == served_release(app_host)


@pytest.fixture(scope="module")
def from_src(playbook: Callable[..., Run], unhealthy: Unhealthy) -> Run:
    src = Path(__file__).resolve().parents[3] / "examples" / "hello_streamlit"
    return playbook({"streamlit_app_repo": "", "streamlit_app_src": str(src)})


def test_an_app_deploys_from_a_local_directory(from_src: Run, app_host: testinfra.host.Host) -> None:
    assert from_src.rc == 0, from_src.output[-3000:]
    assert '"source": "src:' in app_host.file(f"{current_release(app_host)}/release.json").content_string
    assert app_host.check_output(HEALTH) == "ok"


def test_releases_beyond_keep_releases_are_pruned(
    from_src: Run, app_host: testinfra.host.Host, v1_release: str
) -> None:
    assert not app_host.file(v1_release).exists
    assert app_host.file(app_host.file(f"{BASE}/previous").linked_to).is_directory


@pytest.fixture(scope="module")
def bad_inputs(outcomes_dir: Path, from_src: Run) -> tuple[Run, dict[str, Outcome]]:
    """All bad-input cases in one run, one play each."""
    return run_cases("bad_inputs.yml", outcomes_dir)


BAD_INPUTS = [
    ("both_sources", "streamlit_app_repo"),
    ("no_source", "streamlit_app_src"),
    ("entrypoint_escapes", "streamlit_app_entrypoint"),
    ("port_out_of_range", "streamlit_app_port"),
    ("unknown_config_section", "streamlit_app_config"),
    ("unknown_update_strategy", "streamlit_app_update_strategy"),
]


@pytest.mark.parametrize(("case", "variable"), BAD_INPUTS, ids=[case for case, _ in BAD_INPUTS])
def test_bad_input_fails_naming_the_variable(
    bad_inputs: tuple[Run, dict[str, Outcome]], case: str, variable: str
) -> None:
    outcome = bad_inputs[1][case]
    assert outcome.failed
    assert variable in outcome.msg


def test_bad_input_fails_before_any_change(bad_inputs: tuple[Run, dict[str, Outcome]]) -> None:
    run, outcomes = bad_inputs
    assert len(outcomes) == len(BAD_INPUTS)
    assert changed_count(run) == 0
