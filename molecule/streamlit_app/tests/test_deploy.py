"""The converged hosts (Debian 12 from PyPI, Debian 13 from a wheelhouse) serve v1."""

from __future__ import annotations

import testinfra
from conftest import BASE, HEALTH, current_release, served_release

testinfra_hosts = ["ansible://apps"]


def test_the_health_endpoint_answers_ok(host: testinfra.host.Host) -> None:
    assert host.check_output(HEALTH) == "ok"


def test_the_app_page_is_served(host: testinfra.host.Host) -> None:
    page = host.check_output("curl -fsS --max-time 5 http://127.0.0.1:8501/")
    assert '<div id="root">' in page


def test_the_served_release_is_the_current_one(host: testinfra.host.Host) -> None:
    assert served_release(host) == current_release(host)


def test_the_current_release_is_v1(host: testinfra.host.Host) -> None:
    marker = host.file(f"{current_release(host)}/release.json").content_string
    assert '"version": "v1"' in marker


def test_the_release_files_belong_to_the_app_user(host: testinfra.host.Host) -> None:
    owners = host.check_output(f"find {current_release(host)}/ -not -user streamlit -print -quit")
    assert owners == ""


def test_the_secrets_file_is_readable_by_the_app_user_only(host: testinfra.host.Host) -> None:
    secrets = host.file(f"{BASE}/.streamlit/secrets.toml")
    assert (secrets.user, secrets.mode) == ("streamlit", 0o600)


def test_the_deploy_key_is_readable_by_the_app_user_only(host: testinfra.host.Host) -> None:
    key = host.file(f"{BASE}/.ssh/deploy_key")
    assert (key.user, key.mode) == ("streamlit", 0o600)


def test_the_config_keeps_xsrf_protection_and_adds_the_theme(host: testinfra.host.Host) -> None:
    config = host.file(f"{BASE}/.streamlit/config.toml").content_string
    assert "enableXsrfProtection = true" in config
    assert 'base = "dark"' in config


def test_the_app_does_not_run_as_root(host: testinfra.host.Host) -> None:
    assert host.check_output("ps -o user= -C streamlit | sort -u") == "streamlit"
