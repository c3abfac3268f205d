"""Redeploys on Debian 13: new versions, failures that keep the last good release serving, bad input.

The deploys make one story, each step a fixture that depends on the one before and keeps what the
host looked like right before and right after it: v2 over the converged v1 while requests go on,
new constraints, two builds that fail, a server that does not come up, an app from a local
directory. The tests read those records, so they hold in any order.
"""

from __future__ import annotations

import re
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import testinfra
from conftest import APP_HOST, HEALTH, SECRET, Outcome, Run, State, changed_count, run_cases, state

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


@dataclass(frozen=True)
class Step:
    """A deploy, and the app host right before and right after it."""

    run: Run
    before: State
    after: State


@dataclass(frozen=True)
class Update(Step):
    """v2 over v1: the statuses of the requests meanwhile, and what the run printed, tried right after it."""

    statuses: list[str]
    printed_page: str
    tmux_session: int
    v1_venv: bool


@dataclass(frozen=True)
class Constrained(Step):
    """v2 again with new constraints: whether the release built before still has its virtualenv."""

    old_venv: bool


@dataclass(frozen=True)
class FailingBuilds:
    """A conflicting and a broken version in one run: their outcomes, the health answers meanwhile,
    the host before and after, and whether each failed release stayed where its message says."""

    outcomes: dict[str, Outcome]
    answers: list[str]
    before: State
    after: State
    kept: dict[str, bool]


@dataclass(frozen=True)
class Unhealthy(Step):
    """A version whose server does not come up: the statuses of the requests meanwhile."""

    statuses: list[str]


@dataclass(frozen=True)
class FromSrc(Step):
    """The app from a local directory: whether v1 and the previous release are still on disk."""

    v1_dir: bool
    previous_dir: bool


def deploy(playbook: Callable[..., Run], host: testinfra.host.Host, extra_vars: dict[str, Any]) -> Step:
    """Run the converge with EXTRA_VARS, reading the host right before and right after it."""
    before = state(host)
    run = playbook(extra_vars)
    return Step(run, before, state(host))


@pytest.fixture(scope="module")
def outcomes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outcomes")


@pytest.fixture(scope="module")
def v2(playbook: Callable[..., Run], app_host: testinfra.host.Host) -> Update:
    """Deploy v2 over the converged v1 (with rotated secrets) while requests go on."""
    secrets = {"greeting": "Hello", "database": {"password": NEW_SECRET}}
    with RequestLog(app_host) as requests:
        step = deploy(playbook, app_host, {"streamlit_app_version": "v2", "streamlit_app_secrets": secrets})
    return Update(
        **vars(step),
        statuses=requests.statuses,
        printed_page=app_host.run(f"curl -fsS --max-time 5 http://{APP_HOST}:8501/").stdout,
        tmux_session=app_host.run("sudo -u streamlit tmux has-session -t streamlit-hello").rc,
        v1_venv=app_host.file(f"{step.before.current}/venv/bin/streamlit").exists,
    )


def test_a_new_version_deploys(v2: Update) -> None:
    assert v2.run.rc == 0, v2.run.output[-3000:]


def test_the_new_version_is_live(v2: Update) -> None:
    assert (v2.before.marker["version"], v2.after.marker["version"]) == ("v1", "v2")
    assert v2.after.served == v2.after.current


def test_the_update_turned_no_request_away(v2: Update) -> None:
    assert len(v2.statuses) >= 20
    assert [line for line in v2.statuses if line != "200 200"] == []


def test_the_update_handed_over_without_restarting_the_service(v2: Update) -> None:
    assert "RUNNING HANDLER [streamlit_ops.deploy.tmux_service : Hand over tmux service]" in v2.run.output
    assert v2.after.starts == v2.before.starts


def test_the_previous_release_is_kept(v2: Update) -> None:
    assert v2.after.previous == v2.before.current
    assert v2.v1_venv


def test_secret_values_never_reach_the_play_output(v2: Update) -> None:
    assert SECRET not in v2.run.output
    assert NEW_SECRET not in v2.run.output


def test_the_run_ends_with_the_app_url_and_the_tmux_attach_line(v2: Update) -> None:
    assert f"App URL http://{APP_HOST}:8501/" in v2.run.output
    assert re.search(
        rf"^\s*ssh (\S+@)?{APP_HOST} -t 'sudo -u streamlit tmux attach -t streamlit-hello'$", v2.run.output, re.M
    )


def test_the_printed_url_serves_the_app(v2: Update) -> None:
    assert '<div id="root">' in v2.printed_page


def test_the_printed_tmux_session_runs_as_the_app_user(v2: Update) -> None:
    assert v2.tmux_session == 0


@pytest.fixture(scope="module")
def constrained(playbook: Callable[..., Run], app_host: testinfra.host.Host, v2: Update) -> Constrained:
    step = deploy(playbook, app_host, {"streamlit_app_version": "v2", "streamlit_app_pip_constraints": ["pyarrow<27"]})
    return Constrained(**vars(step), old_venv=app_host.file(f"{step.before.current}/venv/bin/streamlit").exists)


def test_new_constraints_build_a_new_release_of_the_same_commit(constrained: Constrained) -> None:
    old, new = constrained.before, constrained.after
    assert constrained.run.rc == 0, constrained.run.output[-3000:]
    assert new.current != old.current
    assert new.marker["source"] == old.marker["source"]
    assert (old.marker["constraints"], new.marker["constraints"]) == ([], ["pyarrow<27"])


def test_the_release_built_before_stays_untouched(constrained: Constrained) -> None:
    assert constrained.old_venv


@pytest.fixture(scope="module")
def failing_builds(app_host: testinfra.host.Host, outcomes_dir: Path, constrained: Constrained) -> FailingBuilds:
    """Deploy a conflicting and a broken version in one run, polling the live release meanwhile."""
    before = state(app_host)
    with HealthPoller(app_host) as poller:
        _, outcomes = run_cases("failing_builds.yml", outcomes_dir)
    kept: dict[str, bool] = {}
    for case, outcome in outcomes.items():
        failed_dir = re.search(r"stays in (\S+) for inspection", outcome.msg)
        kept[case] = failed_dir is not None and app_host.file(f"{failed_dir.group(1)}/src").is_directory
    return FailingBuilds(outcomes, poller.answers, before, state(app_host), kept)


def test_conflicting_requirements_fail_the_play_naming_the_conflict(failing_builds: FailingBuilds) -> None:
    outcome = failing_builds.outcomes["conflict"]
    assert outcome.failed
    assert "packaging==16.8" in outcome.msg
    # pip says "conflict", uv "unsatisfiable".
    assert "conflict" in outcome.msg.lower() or "unsatisfiable" in outcome.msg.lower()


def test_a_script_raising_on_import_fails_the_play_quoting_the_traceback(failing_builds: FailingBuilds) -> None:
    outcome = failing_builds.outcomes["broken"]
    assert outcome.failed
    assert "Traceback" in outcome.msg
    assert "RuntimeError: hello_streamlit: the data source is not configured" in outcome.msg


def test_the_live_release_answers_throughout_the_failing_builds(failing_builds: FailingBuilds) -> None:
    assert len(failing_builds.answers) >= 3
    assert set(failing_builds.answers) == {"ok"}


def test_the_live_release_stays_after_the_failing_builds(failing_builds: FailingBuilds) -> None:
    before, after = failing_builds.before, failing_builds.after
    assert after.current == before.current == after.served


def test_failed_releases_stay_on_disk_for_inspection(failing_builds: FailingBuilds) -> None:
    assert failing_builds.kept == {"conflict": True, "broken": True}, failing_builds.outcomes


@pytest.fixture(scope="module")
def unhealthy(playbook: Callable[..., Run], app_host: testinfra.host.Host, failing_builds: FailingBuilds) -> Unhealthy:
    with RequestLog(app_host) as requests:
        step = deploy(playbook, app_host, {"streamlit_app_version": "unhealthy", "streamlit_app_health_timeout": 10})
    return Unhealthy(**vars(step), statuses=requests.statuses)


def test_a_server_that_does_not_come_up_fails_the_play_and_rolls_back(unhealthy: Unhealthy) -> None:
    assert unhealthy.run.rc != 0
    assert "Rolled back" in unhealthy.run.output
    # The handover failed (systemd's reload job), and the new server's log says why.
    assert "failed: Hand over tmux service: Unable to reload service streamlit-hello.service" in unhealthy.run.output
    assert "FileNotFoundError" in unhealthy.run.output


def test_the_live_release_served_every_request_while_the_new_one_failed(unhealthy: Unhealthy) -> None:
    assert len(unhealthy.statuses) >= 20
    assert [line for line in unhealthy.statuses if line != "200 200"] == []


def test_the_rolled_back_release_serves_again(unhealthy: Unhealthy) -> None:
    before, after = unhealthy.before, unhealthy.after
    assert after.health == "ok"
    assert after.current == before.current == after.served


@pytest.fixture(scope="module")
def from_src(playbook: Callable[..., Run], app_host: testinfra.host.Host, v2: Update, unhealthy: Unhealthy) -> FromSrc:
    src = Path(__file__).resolve().parents[3] / "examples" / "hello_streamlit"
    step = deploy(playbook, app_host, {"streamlit_app_repo": "", "streamlit_app_src": str(src)})
    return FromSrc(
        **vars(step),
        v1_dir=app_host.file(v2.before.current).exists,
        previous_dir=app_host.file(step.after.previous).is_directory,
    )


def test_an_app_deploys_from_a_local_directory(from_src: FromSrc) -> None:
    assert from_src.run.rc == 0, from_src.run.output[-3000:]
    assert from_src.after.marker["source"].startswith("src:")
    assert from_src.after.health == "ok"


def test_releases_beyond_keep_releases_are_pruned(from_src: FromSrc) -> None:
    assert not from_src.v1_dir
    assert from_src.previous_dir


@pytest.fixture(scope="module")
def bad_inputs(outcomes_dir: Path) -> tuple[Run, dict[str, Outcome]]:
    """All bad-input cases in one run, one play each (nothing may change, so no step comes before it)."""
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
