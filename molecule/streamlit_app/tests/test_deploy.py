"""The converged hosts (Debian 12 from PyPI with uv, Debian 13 from a wheelhouse with pip) serve v1.

What only the converge leaves (v1 live, the unit started once) is read from the record conftest's
converged fixture takes before any test deploys again; the rest holds for whatever release is live.
"""

from __future__ import annotations

import json
import tomllib

import testinfra
from conftest import BASE, HEALTH, SECRET, State, current_release, served_release

testinfra_hosts = ["ansible://apps"]


def test_the_health_endpoint_answers_ok(host: testinfra.host.Host) -> None:
    assert host.check_output(HEALTH) == "ok"


def test_the_app_page_is_served(host: testinfra.host.Host) -> None:
    page = host.check_output("curl -fsS --max-time 5 http://127.0.0.1:8501/")
    assert '<div id="root">' in page


def test_the_served_release_is_the_current_one(host: testinfra.host.Host) -> None:
    assert served_release(host) == current_release(host)


def test_the_current_release_is_v1(host: testinfra.host.Host, converged: dict[str, State]) -> None:
    assert converged[host.backend.get_hostname()].marker["version"] == "v1"


def test_the_release_was_built_by_the_installer_the_host_asks_for(host: testinfra.host.Host) -> None:
    expected = "uv" if host.backend.get_hostname().endswith("debian12") else "pip"
    release = current_release(host)
    assert json.loads(host.file(f"{release}/release.json").content_string)["installer"] == expected
    uv = host.file(f"{BASE}/tools/bin/uv")
    assert uv.exists == (expected == "uv")
    # uv's virtualenvs carry no pip of their own; pip's do.
    assert host.file(f"{release}/venv/bin/pip").exists == (expected == "pip")


def test_the_release_ships_its_bytecode(host: testinfra.host.Host) -> None:
    """Compiled at build time, so a first start after a switch compiles nothing.

    streamlit.testing is never imported by a running app: its bytecode comes from the build only.
    """
    pattern = "*/site-packages/streamlit/testing/v1/__pycache__/app_test.*.pyc"
    found = host.check_output(f"find {current_release(host)}/venv/lib -path '{pattern}' -print -quit")
    assert found != ""


def test_the_release_files_belong_to_the_app_user(host: testinfra.host.Host) -> None:
    owners = host.check_output(f"find {current_release(host)}/ -not -user streamlit -print -quit")
    assert owners == ""


def test_the_secrets_file_is_readable_by_the_app_user_only(host: testinfra.host.Host) -> None:
    secrets = host.file(f"{BASE}/.streamlit/secrets.toml")
    assert (secrets.user, secrets.mode) == ("streamlit", 0o600)


def test_the_deploy_key_is_readable_by_the_app_user_only(host: testinfra.host.Host) -> None:
    key = host.file(f"{BASE}/.ssh/deploy_key")
    assert (key.user, key.mode) == ("streamlit", 0o600)


def test_the_config_is_valid_toml_keeping_xsrf_protection_and_adding_the_theme(host: testinfra.host.Host) -> None:
    config = tomllib.loads(host.file(f"{BASE}/.streamlit/config.toml").content_string)
    assert config["server"]["enableXsrfProtection"] is True
    assert config["theme"] == {"base": "dark"}


def test_the_app_reads_its_secrets(host: testinfra.host.Host) -> None:
    # Run as the app user, from the app directory, with the service's HOME: as the server does.
    read = host.run(
        f"cd {BASE}/current/src && sudo -u streamlit env HOME={BASE} {BASE}/current/venv/bin/python -c "
        '\'import streamlit as st; print(st.secrets["greeting"], len(st.secrets["database"]["password"]))\''
    )
    assert read.rc == 0, read.stderr
    assert read.stdout.strip().splitlines()[-1] == f"Hello from the secrets file {len(SECRET)}"


def test_the_app_does_not_run_as_root(host: testinfra.host.Host) -> None:
    # The bracket keeps the pattern from matching this command's own shell.
    assert host.check_output("pgrep -f '/streamlit-serv[e] run ' | xargs ps -o user= -p | sort -u") == "streamlit"


def test_the_reruns_after_the_first_deploy_did_not_restart_the_service(
    host: testinfra.host.Host, converged: dict[str, State]
) -> None:
    # The converge started it; the idempotence run and the check-mode run came after it.
    assert converged[host.backend.get_hostname()].starts == 1


def test_the_server_shares_its_port_for_the_next_handover(host: testinfra.host.Host) -> None:
    # A second socket of the app user binds the port while the server listens on it (without
    # listening itself): possible only because the server's socket asked for SO_REUSEPORT too.
    probe = (
        "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1); "
        "s.bind(('0.0.0.0', 8501)); print('bound')"
    )
    assert host.check_output(f'sudo -u streamlit python3 -c "{probe}"') == "bound"
    # Another user cannot: Linux shares a port only between sockets of the same user.
    other = host.run(f'sudo -u nobody python3 -c "{probe}"')
    assert other.rc != 0
    assert "Address already in use" in other.stderr


def test_the_kernel_setting_for_handovers_persists(host: testinfra.host.Host) -> None:
    conf = host.file("/etc/sysctl.d/60-streamlit-ops.conf")
    assert "net.ipv4.tcp_migrate_req = 1" in conf.content_string
    assert conf.user == "root"
    assert conf.mode == 0o644
