"""The converged install: owned by the app user, usable from a login shell, not downloaded twice."""

from __future__ import annotations

import pytest
import testinfra
from conftest import INSTALLER_PATH, PREFIX, TARGETS, Batch

testinfra_hosts = TARGETS


def login(host: testinfra.host.Host, command: str) -> str:
    return host.check_output(f"su - streamlit -c {command!r}")


def test_the_prefix_is_owned_by_the_app_user(host: testinfra.host.Host) -> None:
    assert host.file(PREFIX).user == "streamlit"
    assert host.file(f"{PREFIX}/bin/python").user == "streamlit"


def test_the_install_is_marked_finished(host: testinfra.host.Host) -> None:
    assert host.file(f"{PREFIX}/conda-meta/history").is_file


def test_a_login_shell_finds_the_pinned_conda(host: testinfra.host.Host) -> None:
    assert login(host, "conda --version") == "conda 25.7.0"


def test_a_login_shell_python_is_the_prefix_one_with_ssl_and_sqlite3(host: testinfra.host.Host) -> None:
    assert login(host, "command -v python") == f"{PREFIX}/bin/python"
    assert login(host, "python -c 'import ssl, sqlite3; print(sqlite3.sqlite_version)'")


def test_other_users_do_not_get_the_user_install_on_path(host: testinfra.host.Host) -> None:
    assert PREFIX not in host.check_output("su - root -c 'echo $PATH'")


def test_the_installer_was_downloaded_once_despite_three_more_runs(server: testinfra.host.Host, host_ip: str) -> None:
    log = server.file("/var/log/standin-http.log").content_string
    downloads = [line for line in log.splitlines() if line.startswith(host_ip) and f'"GET {INSTALLER_PATH} ' in line]
    assert len(downloads) == 1


def test_no_installer_file_is_left_behind(host: testinfra.host.Host) -> None:
    assert not host.file("/var/tmp/Miniconda3-installer-streamlit-user.sh").exists


def test_the_named_environment_has_its_own_python_with_pip(host: testinfra.host.Host) -> None:
    python = f"{PREFIX}/envs/app/bin/python"
    assert host.file(python).user == "streamlit"
    assert host.run(f"{python} -m pip --version").stdout.startswith("pip ")
    assert host.run(f"{python} -c 'import ssl, sqlite3'").rc == 0


def test_the_terms_of_service_acceptance_is_recorded_for_both_channels(host: testinfra.host.Host) -> None:
    records = host.check_output("ls /home/streamlit/.conda/tos").split()
    assert sorted(records) == [
        "https_repo_anaconda_com_pkgs_main.json",
        "https_repo_anaconda_com_pkgs_r.json",
    ]


def test_pip_in_the_prefix_reads_the_ca_bundle_and_find_links(host: testinfra.host.Host) -> None:
    config = login(host, "pip config list")
    assert "global.cert='/etc/ssl/certs/ca-certificates.crt'" in config
    assert "/var/tmp/wheelhouse" in next(line for line in config.splitlines() if line.startswith("global.find-links="))


def test_conda_trusts_the_ca_bundle(host: testinfra.host.Host) -> None:
    assert "ssl_verify: /etc/ssl/certs/ca-certificates.crt" in host.file(f"{PREFIX}/.condarc").content_string


@pytest.mark.parametrize("python", [f"{PREFIX}/bin/python", f"{PREFIX}/envs/app/bin/python"])
def test_the_owner_can_build_a_virtualenv_with_pip_from_the_interpreter(host: testinfra.host.Host, python: str) -> None:
    # What the next role (streamlit_app) does with the published interpreter.
    venv = login(host, "mktemp -d") + "/venv"
    try:
        login(host, f"{python} -m venv {venv}")
        version = login(host, f"{venv}/bin/pip --version")
        assert version.startswith("pip ")
        assert f" from {venv}/lib/" in version
    finally:
        host.run(f"rm -rf {venv.removesuffix('/venv')}")


def test_a_rerun_changes_nothing_and_publishes_the_environment_interpreter(hostname: str, batch: Batch) -> None:
    assert not batch.failed(hostname, "rerun"), batch.failure_message(hostname, "rerun")
    assert batch.stats(hostname, "rerun")["changed"] == 0
    published = batch.results(hostname, "rerun")[-1]["msg"]
    assert published == f"python={PREFIX}/envs/app/bin/python pip={PREFIX}/envs/app/bin/pip conda={PREFIX}/bin/conda"
