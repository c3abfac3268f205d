"""playbooks/heroku.yml and heroku_teardown.yml against the Heroku stand-in (tests/standins/heroku).

One stand-in for the module, and deploys shared between the tests, which run in file order:
bad inputs and check mode first (nothing may reach the API or change), then the example app
deployed at -vvv (nothing secret in the output) and rendered in Chromium through the stand-in's
router, a re-run that builds nothing, a code change that builds and releases once, a broken
build refused while the previous release serves, the penguins app from a git repository with
a custom domain and a bigger formation, an app this collection did not create left alone, and
teardown. The stand-in checks every request and answer against Heroku's published schema.
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

from .conftest import REPO, clean_env, tool
from .support.browser import launched
from .support.playbook import Run, run_playbook

NAME = "heroku"  # containers sod-heroku-*
PORT_BASE = 18750
RENDER_TIMEOUT_MS = 90_000
SUFFIX = secrets.token_hex(3)
HELLO = f"hello-{SUFFIX}"
PENGUINS = f"penguins-{SUFFIX}"
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


def hello_vars(work: Path) -> dict[str, Any]:
    return {
        "heroku_app_name": HELLO,
        "streamlit_app_src": str(work / "hello"),
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


def test_check_mode_on_a_new_app_reports_changes_and_writes_nothing(standin: Standin, work: Path) -> None:
    writes = standin.writes()
    run = play(standin, "heroku.yml", hello_vars(work), "--check")
    assert run.rc == 0, run.output[-3000:]
    assert run.changed() >= 1
    assert "Would create the Heroku app" in run.output
    assert standin.writes() == writes
    assert standin.call("GET", f"/apps/{HELLO}")[0] == 404


@pytest.fixture(scope="module")
def hello(standin: Standin, work: Path) -> Run:
    """The example app's first deploy, at -vvv."""
    run = play(standin, "heroku.yml", hello_vars(work), "-vvv")
    assert run.rc == 0, run.output[-4000:]
    return run


def test_the_first_deploy_builds_releases_and_scales(hello: Run, standin: Standin) -> None:
    assert hello.changed() >= 1
    assert standin.builds_started(HELLO) == 1
    status, formation = standin.call("GET", f"/apps/{HELLO}/formation")
    assert status == 200
    assert [(f["type"], f["quantity"], f["dyno_size"]["name"]) for f in formation] == [("web", 1, "Basic")]
    _, config = standin.call("GET", f"/apps/{HELLO}/config-vars")
    assert config["STREAMLIT_OPS_MANAGED"] == "streamlit_ops.deploy"
    assert config["SOD_TOKEN"] == ENV_VALUE
    assert config["STREAMLIT_THEME_BASE"] == "dark"
    assert config["STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION"] == "true"
    assert SECRET_VALUE in config["STREAMLIT_OPS_SECRETS_TOML"]


def test_nothing_secret_appears_at_vvv(hello: Run, standin: Standin) -> None:
    assert "App URL https://" in hello.output
    for value in (SECRET_VALUE, ENV_VALUE, standin.key):
        assert value not in hello.output


def test_the_app_renders_in_a_browser_with_its_secrets(hello: Run, standin: Standin, browser: Browser) -> None:
    page = open_app(browser, standin.router(HELLO), "Hello Streamlit", "Release v1", "A greeting is configured")
    page.close()


def test_a_rerun_builds_nothing_and_changes_nothing(hello: Run, standin: Standin, work: Path) -> None:
    releases = len(standin.releases(HELLO))
    run = play(standin, "heroku.yml", hello_vars(work))
    assert run.rc == 0, run.output[-3000:]
    assert run.changed() == 0
    assert standin.builds_started(HELLO) == 1
    assert len(standin.releases(HELLO)) == releases


def test_check_mode_on_the_deployed_app_reports_nothing(hello: Run, standin: Standin, work: Path) -> None:
    writes = standin.writes()
    run = play(standin, "heroku.yml", hello_vars(work), "--check")
    assert run.rc == 0, run.output[-3000:]
    assert run.changed() == 0
    assert standin.writes() == writes


def test_a_code_change_builds_and_releases_once(hello: Run, standin: Standin, work: Path, browser: Browser) -> None:
    script = work / "hello" / "streamlit_app.py"
    script.write_text(script.read_text().replace('APP_VERSION = "v1"', 'APP_VERSION = "v2"'))
    releases = len(standin.releases(HELLO))
    run = play(standin, "heroku.yml", hello_vars(work))
    assert run.rc == 0, run.output[-3000:]
    assert standin.builds_started(HELLO) == 2
    assert len(standin.releases(HELLO)) == releases + 1
    open_app(browser, standin.router(HELLO), "Release v2").close()


def test_a_broken_build_is_refused_and_the_previous_release_serves(
    hello: Run, standin: Standin, work: Path, tmp_path: Path, browser: Browser
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(work / "hello", broken)
    (broken / "streamlit_app.py").write_text(
        (broken / "streamlit_app.py").read_text().replace('APP_VERSION = "v2"', 'APP_VERSION = "v3"')
    )
    with (broken / "requirements.txt").open("a") as requirements:
        requirements.write("sod-no-such-package==0.0.1\n")
    running = standin.releases(HELLO)
    run = play(standin, "heroku.yml", {**hello_vars(work), "streamlit_app_src": str(broken)})
    assert run.rc != 0
    assert "build of " + HELLO + " failed" in run.output
    assert "sod-no-such-package" in run.output  # pip's own words, quoted from the build output
    assert f"release v{running[0]['version']} keeps serving" in run.output
    assert standin.releases(HELLO) == running
    open_app(browser, standin.router(HELLO), "Release v2").close()


def test_the_penguins_app_deploys_from_git_with_a_domain_and_renders(
    standin: Standin, tmp_path: Path, browser: Browser
) -> None:
    repo = tmp_path / "penguins"
    shutil.copytree(REPO / "examples" / "penguins", repo)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for step in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "penguins"]):
        subprocess.run([*git, *step], check=True, capture_output=True)
    variables = {
        "heroku_app_name": PENGUINS, "heroku_app_repo": f"file://{repo}", "heroku_app_version": "main",
        "heroku_app_dyno_size": "standard-1x", "heroku_app_dyno_count": 2, "heroku_app_domain": "penguins.example.com",
    }  # fmt: skip
    run = play(standin, "heroku.yml", variables)
    assert run.rc == 0, run.output[-3000:]
    _, domains = standin.call("GET", f"/apps/{PENGUINS}/domains")
    assert [d["hostname"] for d in domains] == ["penguins.example.com"]
    assert f"DNS: point penguins.example.com (CNAME or ALIAS) at {domains[0]['cname']}" in run.output
    assert standin.call("GET", f"/apps/{PENGUINS}")[1]["acm"] is True
    _, formation = standin.call("GET", f"/apps/{PENGUINS}/formation")
    assert [(f["quantity"], f["dyno_size"]["name"]) for f in formation] == [(2, "Standard-1X")]
    page = open_app(browser, standin.router(PENGUINS), "Penguin classifier", "Predicted species: Gentoo")
    assert "loaded from model.pkl" in page.content()
    page.close()


def test_an_app_this_collection_did_not_create_is_left_alone(standin: Standin) -> None:
    status, _ = standin.call("POST", "/apps", {"name": STRANGER})
    assert status == 201
    variables = {"heroku_app_name": STRANGER, "streamlit_app_src": str(REPO / "examples" / "penguins")}
    writes = standin.writes()
    deploy = play(standin, "heroku.yml", variables)
    assert deploy.rc != 0
    assert "was not created by this collection" in deploy.output
    teardown = play(standin, "heroku_teardown.yml", {"heroku_app_name": STRANGER})
    assert teardown.rc != 0
    assert "was not created by this collection" in teardown.output
    assert standin.writes() == writes
    assert standin.call("GET", f"/apps/{STRANGER}")[0] == 200


@pytest.mark.parametrize("app", [HELLO, PENGUINS], ids=["hello", "penguins"])
def test_teardown_deletes_the_app_and_its_dyno(standin: Standin, app: str) -> None:
    run = play(standin, "heroku_teardown.yml", {"heroku_app_name": app})
    assert run.rc == 0, run.output[-3000:]
    assert run.changed() == 1
    assert standin.call("GET", f"/apps/{app}")[0] == 404
    containers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name=^sod-{NAME}-dyno-{app}-"], capture_output=True, text=True, check=True
    )
    assert containers.stdout.strip() == ""
    again = play(standin, "heroku_teardown.yml", {"heroku_app_name": app})
    assert again.rc == 0
    assert again.changed() == 0


def test_every_request_and_answer_kept_the_published_schema(standin: Standin) -> None:
    assert standin.stats()["contract_errors"] == []
