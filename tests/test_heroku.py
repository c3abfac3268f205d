"""playbooks/heroku.yml and heroku_teardown.yml against the Heroku stand-in (tests/standins/heroku).

One stand-in for the module. Bad inputs reach no API; check mode on an app that does not exist
writes nothing, nor does a key Heroku refuses (its answer is quoted). The deploys make two stories,
each step a module fixture that depends on the one before and keeps what the stand-in and Chromium
(through the stand-in's router) showed right after it: the example app deployed at -vvv (nothing
secret in the output) and rendered, a re-run that builds nothing, check mode that reports nothing,
a code change that builds and releases once, a broken build refused while the previous release
serves, teardown; the penguins app from a git repository with a custom domain and a bigger
formation, teardown. An app this collection did not create is left alone. The tests read those
records, so they hold in any order, and the schema test (the stand-in checks every request and
answer against Heroku's published schema) comes after every story whatever the order.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError

from .conftest import REPO, clean_env, tool
from .support.browser import launched
from .support.playbook import Run, run_playbook

NAME = "heroku"  # containers sod-heroku-*
PORT_BASE = 18750
RENDER_TIMEOUT_MS = 90_000
SUFFIX = secrets.token_hex(3)
HELLO = f"hello-{SUFFIX}"
PENGUINS = f"penguins-{SUFFIX}"
NEW = f"new-{SUFFIX}"  # never created: check mode only
STRANGER = f"stranger-{SUFFIX}"
SECRET_VALUE = f"sod-secret-{secrets.token_hex(8)}"
ENV_VALUE = f"sod-env-{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Standin:
    url: str
    key: str
    state_dir: Path

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Accept": "application/vnd.heroku+json; version=3", "Authorization": f"Bearer {self.key}",
                     "Content-Type": "application/json", "Range": "version ..; order=desc, max=200"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_standin/stats", timeout=10) as response:
            found: dict[str, Any] = json.load(response)
            return found

    def writes(self) -> int:
        return sum(n for key, n in self.stats()["by_endpoint"].items() if not key.startswith("GET "))

    def router(self, app: str) -> str:
        with urllib.request.urlopen(f"{self.url}/_standin/router", timeout=10) as response:
            return str(json.load(response)[app])

    def releases(self, app: str) -> list[dict[str, Any]]:
        status, found = self.call("GET", f"/apps/{app}/releases")
        assert status in (200, 206), found
        return list(found)

    def builds_started(self, app: str) -> int:
        return int(self.stats()["by_endpoint"].get(f"POST /apps/{app}/builds", 0))


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standin]:
    state_dir = tmp_path_factory.mktemp("heroku-standin")
    key = secrets.token_hex(16)
    command = [tool("python"), "-m", "tests.standins.heroku"]
    env = clean_env(HEROKU_API_KEY=key)
    subprocess.run(
        [*command, "start", "--state-dir", str(state_dir), "--name", NAME, "--port-base", str(PORT_BASE)],
        cwd=REPO, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    url = subprocess.run(
        [*command, "url", "--state-dir", str(state_dir)], cwd=REPO, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        yield Standin(url=url, key=key, state_dir=state_dir)
    finally:
        subprocess.run([*command, "stop", "--state-dir", str(state_dir)], cwd=REPO, env=env, check=False)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copies of the example apps the tests change."""
    root = tmp_path_factory.mktemp("heroku-apps")
    shutil.copytree(REPO / "examples" / "hello_streamlit", root / "hello")
    return root


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as chromium:
        yield chromium


def play(standin: Standin, playbook: str, variables: dict[str, Any], *args: str) -> Run:
    return run_playbook(
        f"playbooks/{playbook}",
        extra_vars={"heroku_app_api_url": standin.url, **variables},
        options=args,
        env={"HEROKU_API_KEY": standin.key},
        isolated=True,
    )


def hello_vars(src: Path, name: str = HELLO) -> dict[str, Any]:
    return {
        "heroku_app_name": name,
        "streamlit_app_src": str(src),
        "streamlit_app_secrets": {"greeting": SECRET_VALUE},
        "streamlit_app_env": {"SOD_TOKEN": ENV_VALUE},
        "streamlit_app_config": {"theme": {"base": "dark"}},
    }


def serving(url: str, timeout: float = 60.0) -> None:
    """Wait until the dyno of the latest release answers its health check (it restarts on each release)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}_stcore/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def open_app(browser: Browser, url: str, *texts: str) -> Page:
    serving(url)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    for text in texts:
        # The HTML shell holds none of it: the script's output arrives over the websocket.
        page.get_by_text(text).first.wait_for(timeout=RENDER_TIMEOUT_MS)
    return page


@dataclass(frozen=True)
class Shown:
    """What Chromium showed at an app's URL: why it did not show every text asked for, else "" and the HTML."""

    error: str
    html: str


def show(browser: Browser, url: str, *texts: str) -> Shown:
    try:
        page = open_app(browser, url, *texts)
    except (PlaywrightError, OSError) as error:
        return Shown(error=f"{url} did not show {texts}: {error}", html="")
    try:
        return Shown(error="", html=page.content())
    finally:
        page.close()


def tear_down(standin: Standin, app: str) -> TornDown:
    run = play(standin, "heroku_teardown.yml", {"heroku_app_name": app})
    status = standin.call("GET", f"/apps/{app}")[0]
    containers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name=^sod-{NAME}-dyno-{app}-"], capture_output=True, text=True, check=True
    )
    again = play(standin, "heroku_teardown.yml", {"heroku_app_name": app})
    return TornDown(run=run, status=status, containers=containers.stdout.strip(), again=again)


@dataclass(frozen=True)
class Checked:
    """A check-mode run, and the stand-in's writes before and after it."""

    run: Run
    writes_before: int
    writes_after: int


@dataclass(frozen=True)
class Hello:
    """The example app's first deploy (at -vvv), and the app on the stand-in right after it."""

    run: Run
    builds_started: int
    formation_status: int
    formation: list[tuple[str, int, str]]
    config: dict[str, str]


@dataclass(frozen=True)
class Redeployed:
    """The example app deployed over itself: the run, its releases before and after it, the builds started so far."""

    run: Run
    releases_before: int
    releases_after: int
    builds_started: int


@dataclass(frozen=True)
class Broken:
    """A deploy whose build fails: the run, the releases before and after it, and what the browser then showed."""

    run: Run
    releases_before: list[dict[str, Any]]
    releases_after: list[dict[str, Any]]
    shown: Shown


@dataclass(frozen=True)
class Penguins:
    """The penguins app deployed from git, and the app on the stand-in and in the browser right after it."""

    run: Run
    domains: list[dict[str, Any]]
    acm: bool
    formation: list[tuple[int, str]]
    shown: Shown


@dataclass(frozen=True)
class Stranger:
    """A deploy and a teardown of an app this collection did not create, and the stand-in after them."""

    deploy: Run
    teardown: Run
    writes_before: int
    writes_after: int
    status_after: int


@dataclass(frozen=True)
class TornDown:
    """A teardown, the app and its dynos after it, and a second teardown."""

    run: Run
    status: int
    containers: str
    again: Run


# Check mode on an app that does not exist, and the app nobody else creates.
@pytest.fixture(scope="module")
def new_app_checked(standin: Standin) -> Checked:
    writes = standin.writes()
    run = play(standin, "heroku.yml", hello_vars(REPO / "examples" / "hello_streamlit", NEW), "--check")
    return Checked(run=run, writes_before=writes, writes_after=standin.writes())


# The example app's story: each step after the one before.
@pytest.fixture(scope="module")
def hello(standin: Standin, work: Path) -> Hello:
    run = play(standin, "heroku.yml", hello_vars(work / "hello"), "-vvv")
    assert run.rc == 0, run.output[-4000:]
    status, formation = standin.call("GET", f"/apps/{HELLO}/formation")
    _, config = standin.call("GET", f"/apps/{HELLO}/config-vars")
    return Hello(
        run=run,
        builds_started=standin.builds_started(HELLO),
        formation_status=status,
        formation=[(f["type"], f["quantity"], f["dyno_size"]["name"]) for f in formation] if status == 200 else [],
        config=config,
    )


@pytest.fixture(scope="module")
def hello_shown(hello: Hello, standin: Standin, browser: Browser) -> Shown:
    """Release v1 in the browser."""
    return show(browser, standin.router(HELLO), "Hello Streamlit", "Release v1", "A greeting is configured")


def redeploy(standin: Standin, src: Path) -> Redeployed:
    releases = len(standin.releases(HELLO))
    run = play(standin, "heroku.yml", hello_vars(src))
    return Redeployed(
        run=run,
        releases_before=releases,
        releases_after=len(standin.releases(HELLO)),
        builds_started=standin.builds_started(HELLO),
    )


@pytest.fixture(scope="module")
def rerun(hello_shown: Shown, standin: Standin, work: Path) -> Redeployed:
    return redeploy(standin, work / "hello")


@pytest.fixture(scope="module")
def deployed_checked(rerun: Redeployed, standin: Standin, work: Path) -> Checked:
    writes = standin.writes()
    run = play(standin, "heroku.yml", hello_vars(work / "hello"), "--check")
    return Checked(run=run, writes_before=writes, writes_after=standin.writes())


@pytest.fixture(scope="module")
def code_changed(deployed_checked: Checked, standin: Standin, work: Path) -> Redeployed:
    script = work / "hello" / "streamlit_app.py"
    script.write_text(script.read_text().replace('APP_VERSION = "v1"', 'APP_VERSION = "v2"'))
    return redeploy(standin, work / "hello")


@pytest.fixture(scope="module")
def v2_shown(code_changed: Redeployed, standin: Standin, browser: Browser) -> Shown:
    """Release v2 in the browser."""
    return show(browser, standin.router(HELLO), "Release v2")


@pytest.fixture(scope="module")
def broken(
    v2_shown: Shown, standin: Standin, work: Path, tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> Broken:
    """Release v3 whose requirements cannot be installed, over release v2."""
    src = tmp_path_factory.mktemp("heroku-broken") / "broken"
    shutil.copytree(work / "hello", src)
    (src / "streamlit_app.py").write_text(
        (src / "streamlit_app.py").read_text().replace('APP_VERSION = "v2"', 'APP_VERSION = "v3"')
    )
    with (src / "requirements.txt").open("a") as requirements:
        requirements.write("sod-no-such-package==0.0.1\n")
    running = standin.releases(HELLO)
    run = play(standin, "heroku.yml", hello_vars(src))
    return Broken(
        run=run,
        releases_before=running,
        releases_after=standin.releases(HELLO),
        shown=show(browser, standin.router(HELLO), "Release v2"),
    )


@pytest.fixture(scope="module")
def hello_torn_down(broken: Broken, standin: Standin) -> TornDown:
    return tear_down(standin, HELLO)


# The penguins app's story.
@pytest.fixture(scope="module")
def penguins(standin: Standin, tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Penguins:
    repo = tmp_path_factory.mktemp("heroku-penguins") / "penguins"
    shutil.copytree(REPO / "examples" / "penguins", repo)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for step in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "penguins"]):
        subprocess.run([*git, *step], check=True, capture_output=True)
    variables = {
        "heroku_app_name": PENGUINS, "heroku_app_repo": f"file://{repo}", "heroku_app_version": "main",
        "heroku_app_dyno_size": "standard-1x", "heroku_app_dyno_count": 2, "heroku_app_domain": "penguins.example.com",
    }  # fmt: skip
    run = play(standin, "heroku.yml", variables)
    _, domains = standin.call("GET", f"/apps/{PENGUINS}/domains")
    _, formation = standin.call("GET", f"/apps/{PENGUINS}/formation")
    return Penguins(
        run=run,
        domains=list(domains) if run.rc == 0 else [],
        acm=standin.call("GET", f"/apps/{PENGUINS}")[1].get("acm") is True,
        formation=[(f["quantity"], f["dyno_size"]["name"]) for f in formation] if run.rc == 0 else [],
        shown=show(browser, standin.router(PENGUINS), "Penguin classifier", "Predicted species: Gentoo"),
    )


@pytest.fixture(scope="module")
def penguins_torn_down(penguins: Penguins, standin: Standin) -> TornDown:
    return tear_down(standin, PENGUINS)


@pytest.fixture(scope="module")
def stranger(standin: Standin) -> Stranger:
    status, _ = standin.call("POST", "/apps", {"name": STRANGER})
    assert status == 201
    variables = {"heroku_app_name": STRANGER, "streamlit_app_src": str(REPO / "examples" / "penguins")}
    writes = standin.writes()
    deploy = play(standin, "heroku.yml", variables)
    teardown = play(standin, "heroku_teardown.yml", {"heroku_app_name": STRANGER})
    return Stranger(
        deploy=deploy,
        teardown=teardown,
        writes_before=writes,
        writes_after=standin.writes(),
        status_after=standin.call("GET", f"/apps/{STRANGER}")[0],
    )


def test_bad_inputs_fail_before_any_api_call(standin: Standin) -> None:
    before = standin.stats()["api_requests"]
    cases = {
        "heroku_app_name": {"heroku_app_name": "Bad_Name", "streamlit_app_src": str(REPO / "examples/hello_streamlit")},
        "heroku_app_dyno_count": {"heroku_app_name": HELLO, "heroku_app_dyno_count": 3,
                                  "streamlit_app_src": str(REPO / "examples/hello_streamlit")},
    }  # fmt: skip
    for variable, variables in cases.items():
        run = play(standin, "heroku.yml", variables)
        assert run.rc != 0
        assert variable in run.output
    assert standin.stats()["api_requests"] == before


def test_check_mode_on_a_new_app_reports_changes_and_writes_nothing(new_app_checked: Checked, standin: Standin) -> None:
    run = new_app_checked.run
    assert run.rc == 0, run.output[-3000:]
    assert run.changed() >= 1
    assert "Would create the Heroku app" in run.output
    assert new_app_checked.writes_after == new_app_checked.writes_before
    assert standin.call("GET", f"/apps/{NEW}")[0] == 404


def test_a_refused_api_key_fails_quoting_herokus_answer(standin: Standin) -> None:
    writes = standin.writes()
    variables = {**hello_vars(REPO / "examples" / "hello_streamlit", NEW), "heroku_app_api_key": "sod-not-the-key"}
    run = play(standin, "heroku.yml", variables)
    assert run.rc != 0
    # The status, Heroku's error id and its message (the heroku_api_error filter), never the key.
    assert (
        f"Looking up the app {NEW} at {standin.url} failed: 401 unauthorized: Invalid credentials provided."
        in run.output
    )
    assert "sod-not-the-key" not in run.output
    assert standin.writes() == writes


def test_the_first_deploy_builds_releases_and_scales(hello: Hello) -> None:
    assert hello.run.changed() >= 1
    assert hello.builds_started == 1
    assert hello.formation_status == 200
    assert hello.formation == [("web", 1, "Basic")]
    config = hello.config
    assert config["STREAMLIT_OPS_MANAGED"] == "streamlit_ops.deploy"
    assert config["SOD_TOKEN"] == ENV_VALUE
    assert config["STREAMLIT_THEME_BASE"] == "dark"
    assert config["STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION"] == "true"
    assert SECRET_VALUE in config["STREAMLIT_OPS_SECRETS_TOML"]


def test_nothing_secret_appears_at_vvv(hello: Hello, standin: Standin) -> None:
    assert "App URL https://" in hello.run.output
    for value in (SECRET_VALUE, ENV_VALUE, standin.key):
        assert value not in hello.run.output


def test_the_app_renders_in_a_browser_with_its_secrets(hello_shown: Shown) -> None:
    assert not hello_shown.error, hello_shown.error


def test_a_rerun_builds_nothing_and_changes_nothing(rerun: Redeployed) -> None:
    assert rerun.run.rc == 0, rerun.run.output[-3000:]
    assert rerun.run.changed() == 0
    assert rerun.builds_started == 1
    assert rerun.releases_after == rerun.releases_before


def test_check_mode_on_the_deployed_app_reports_nothing(deployed_checked: Checked) -> None:
    run = deployed_checked.run
    assert run.rc == 0, run.output[-3000:]
    assert run.changed() == 0
    assert deployed_checked.writes_after == deployed_checked.writes_before


def test_a_code_change_builds_and_releases_once(code_changed: Redeployed, v2_shown: Shown) -> None:
    assert code_changed.run.rc == 0, code_changed.run.output[-3000:]
    assert code_changed.builds_started == 2
    assert code_changed.releases_after == code_changed.releases_before + 1
    assert not v2_shown.error, v2_shown.error


def test_a_broken_build_is_refused_and_the_previous_release_serves(broken: Broken) -> None:
    run = broken.run
    assert run.rc != 0
    assert "build of " + HELLO + " failed" in run.output
    assert "sod-no-such-package" in run.output  # pip's own words, quoted from the build output
    assert f"release v{broken.releases_before[0]['version']} keeps serving" in run.output
    assert broken.releases_after == broken.releases_before
    assert not broken.shown.error, broken.shown.error


def test_the_penguins_app_deploys_from_git_with_a_domain_and_renders(penguins: Penguins) -> None:
    run = penguins.run
    assert run.rc == 0, run.output[-3000:]
    assert [d["hostname"] for d in penguins.domains] == ["penguins.example.com"]
    assert f"DNS: point penguins.example.com (CNAME or ALIAS) at {penguins.domains[0]['cname']}" in run.output
    assert penguins.acm is True
    assert penguins.formation == [(2, "Standard-1X")]
    assert not penguins.shown.error, penguins.shown.error
    assert "loaded from model.pkl" in penguins.shown.html


def test_an_app_this_collection_did_not_create_is_left_alone(stranger: Stranger) -> None:
    assert stranger.deploy.rc != 0
    assert "was not created by this collection" in stranger.deploy.output
    assert stranger.teardown.rc != 0
    assert "was not created by this collection" in stranger.teardown.output
    assert stranger.writes_after == stranger.writes_before
    assert stranger.status_after == 200


@pytest.mark.parametrize("torn_down", ["hello_torn_down", "penguins_torn_down"], ids=["hello", "penguins"])
def test_teardown_deletes_the_app_and_its_dyno(request: pytest.FixtureRequest, torn_down: str) -> None:
    found: TornDown = request.getfixturevalue(torn_down)
    assert found.run.rc == 0, found.run.output[-3000:]
    assert found.run.changed() == 1
    assert found.status == 404
    assert found.containers == ""
    assert found.again.rc == 0
    assert found.again.changed() == 0


def test_every_request_and_answer_kept_the_published_schema(
    standin: Standin,
    new_app_checked: Checked,
    hello_torn_down: TornDown,
    penguins_torn_down: TornDown,
    stranger: Stranger,
) -> None:
    # After every story, in whatever order the tests run.
    assert standin.stats()["contract_errors"] == []
