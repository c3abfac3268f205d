"""No secret leaves a 0600 file: a canary in every secret-bearing input, none anywhere else.

The scenario deploys Miniconda and the app with a distinct canary in the app's secrets and
environment, the git URL's token, the package index's token, the proxy's password and the
deploy key, through services that refuse a request without them. Every run is logged at -vvv;
the host's process lines are sampled ten times a second during the runs.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request

import pytest
import testinfra
from conftest import APP_USER, BASE, PREFIX, SCENARIO


def test_every_secret_was_really_used(services: testinfra.host.Host) -> None:
    status = json.loads(services.file("/var/tmp/canary-status.json").content_string)
    assert status["git"] > 0
    assert status["index"] > 0
    assert status["proxy"] > 0


def test_the_runs_were_logged_at_high_verbosity(play_log: str) -> None:
    assert "ESTABLISH" in play_log
    assert "EXEC" in play_log


def test_the_play_output_holds_no_canary(play_log: str, canaries: dict[str, str]) -> None:
    assert [name for name, value in canaries.items() if value in play_log] == []


def test_the_process_lines_were_sampled_during_the_runs(app: testinfra.host.Host) -> None:
    samples = app.file("/root/sod-ps-samples").content_string
    # pip's argv during a build, and the become commands Ansible runs (where a task's environment would show).
    assert "-m pip install" in samples
    assert "BECOME-SUCCESS" in samples


def test_no_process_line_held_a_canary(app: testinfra.host.Host, canaries: dict[str, str]) -> None:
    samples = app.file("/root/sod-ps-samples").content_string
    assert [name for name, value in canaries.items() if value in samples] == []


def test_no_file_others_can_read_holds_a_canary(app: testinfra.host.Host, canaries: dict[str, str]) -> None:
    user = app.user(APP_USER)
    script = (SCENARIO / "files" / "exposed.py").read_text()
    found = app.check_output(
        "python3 -c %s %s %s %s",
        script,
        str(user.uid),
        str(user.gid),
        " ".join(canaries.values()),
    )
    assert json.loads(found) == []


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/.streamlit/secrets.toml",
        f"{BASE}/.ssh/deploy_key",
        f"{BASE}/.gitconfig",
        f"{BASE}/.config/streamlit-ops/build.env",
        f"{BASE}/.config/streamlit-ops/run.env",
        f"{BASE}/.config/streamlit-ops/git-credentials",
        f"{PREFIX}/.condarc",
        f"{PREFIX}/pip.conf",
    ],
)
def test_each_file_with_a_secret_is_the_app_users_alone(app: testinfra.host.Host, path: str) -> None:
    secret_file = app.file(path)
    assert secret_file.is_file
    assert secret_file.user == APP_USER
    assert secret_file.mode == 0o600


def test_the_mirror_checkout_keeps_no_credentials(app: testinfra.host.Host, canaries: dict[str, str]) -> None:
    config = app.file(f"{BASE}/repo/.git/config").content_string
    assert canaries["git"] not in config
    assert "url = https://sod-security-services:8443/git/app.git" in config


def test_the_app_reads_a_list_of_tables_and_an_emoji_from_its_secrets(app: testinfra.host.Host) -> None:
    program = "import json, tomllib, sys; print(json.dumps(tomllib.load(open(sys.argv[1], 'rb'))))"
    secrets = json.loads(
        app.check_output("sudo -u %s python3 -c %s %s", APP_USER, program, f"{BASE}/.streamlit/secrets.toml")
    )
    assert secrets["greeting"] == "Hello from the secrets file \U0001f388"
    assert secrets["servers"] == [{"name": "alpha", "port": 5432}, {"name": "beta"}]


def test_the_app_runs_with_its_environment(app: testinfra.host.Host, canaries: dict[str, str]) -> None:
    pid = app.check_output("pgrep -u %s -f 'streamlit-serve run' | head -n 1", APP_USER)
    environ = app.file(f"/proc/{pid}/environ").content_string.split("\0")
    assert f"APP_API_KEY={canaries['env']}" in environ


def front_door_status(app: testinfra.host.Host, password: str | None) -> int:
    """The front door's answer to the controller, with or without the password (never on the host's command lines)."""
    address = app.check_output("hostname -I").split()[0]
    request = urllib.request.Request(f"https://{address}/")
    if password is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"viewer:{password}".encode()).decode())
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # self-signed in this scenario
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def test_the_front_door_asks_for_its_password(app: testinfra.host.Host, canaries: dict[str, str]) -> None:
    assert front_door_status(app, None) == 401
    assert front_door_status(app, canaries["basic_auth"]) == 200
