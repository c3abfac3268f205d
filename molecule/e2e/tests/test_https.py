"""Each twin serves the app over HTTPS only, with a certificate from the demo's ACME server.

What `make demo` promises: `curl --cacert <CA file> <App URL>_stcore/health` answers
`ok`; plain HTTP on the published HTTP port redirects to the App URL; Streamlit's
own port is published nowhere and answers no other container; and nothing on this
machine trusts Pebble's roots unless given the CA file.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from conftest import CA_FILE, DEPLOYMENT, app_url

STREAMLIT_PORT = 8501  # streamlit_app_port's default, bound to 127.0.0.1 in the twin behind the front door


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    # curl resolves every *.localhost name to the loopback interface by itself.
    return subprocess.run(
        ["curl", "--silent", "--show-error", "--max-time", "20", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def by_port(twins: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(twins.values(), key=lambda t: t["https_port"])


@pytest.mark.parametrize("index", [0, 1])
def test_curl_with_the_ca_file_gets_ok_from_the_app_url(index: int, twins: dict[str, dict[str, Any]]) -> None:
    twin = by_port(twins)[index]
    assert twin["name"] == f"{twin['instance_id']}.{DEPLOYMENT}.localhost"
    result = curl("--fail", "--cacert", str(CA_FILE), f"{app_url(twin)}_stcore/health")
    assert (result.returncode, result.stdout) == (0, "ok"), result.stderr


def test_nothing_trusts_the_ca_unless_given_the_file(twins: dict[str, dict[str, Any]]) -> None:
    result = curl(f"{app_url(by_port(twins)[0])}_stcore/health")
    assert result.returncode == 60, (result.returncode, result.stderr)  # peer certificate cannot be authenticated


@pytest.mark.parametrize("index", [0, 1])
def test_plain_http_redirects_to_the_app_url(index: int, twins: dict[str, dict[str, Any]]) -> None:
    twin = by_port(twins)[index]
    result = curl("--output", "/dev/null", "--write-out", "%{http_code} %{redirect_url}",
                  f"http://{twin['name']}:{twin['http_port']}/")  # fmt: skip
    assert result.stdout == f"301 {app_url(twin)}", result.stderr


def test_the_twins_publish_the_front_door_and_ssh_only(twins: dict[str, dict[str, Any]]) -> None:
    for twin in twins.values():
        published = subprocess.run(
            ["docker", "port", twin["container"]], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        assert sorted(line.split(" -> ")[0] for line in published) == ["22/tcp", "443/tcp", "80/tcp"]
        assert f"443/tcp -> 127.0.0.1:{twin['https_port']}" in published
        assert f"80/tcp -> 127.0.0.1:{twin['http_port']}" in published


def test_streamlit_answers_no_other_container(twins: dict[str, dict[str, Any]]) -> None:
    """From the ACME server's container, on the demo's network: the front door answers, Streamlit does not."""
    for twin in twins.values():
        # curl would take the *.localhost name for its own loopback: ask Docker's DNS for the twin's address.
        probe = (
            f"ip=$(getent hosts {twin['name']} | cut -d' ' -f1);"
            " curl -s -o /dev/null -w '%{http_code}' http://$ip/; echo;"
            f" curl -s -o /dev/null --max-time 5 http://$ip:{STREAMLIT_PORT}/_stcore/health; echo $?"
        )
        result = subprocess.run(
            ["docker", "exec", f"sod-{DEPLOYMENT}-acme", "sh", "-c", probe], capture_output=True, text=True, check=True
        )
        front_door, streamlit = result.stdout.split()
        assert front_door == "301"
        assert streamlit == "7"  # curl: failed to connect
