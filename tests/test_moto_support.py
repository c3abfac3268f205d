"""The AWS emulator helper behind `make demo`: one emulator per demo, state kept across its restarts.

`make demo` run twice must find the deployment the first run made: a second
`start` returns the server already running (however much it holds), a server
that died is replaced by one that replays its recording, with the same
resources under the same ids and addresses, and `stop` ends every server it
started for the state directory.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from .support import moto


def client(url: str) -> Any:
    return boto3.client(
        "ec2", region_name="us-east-1", endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def snapshot(url: str) -> list[tuple[str, str, str]]:
    found = [i for r in client(url).describe_instances()["Reservations"] for i in r["Instances"]]
    return sorted((i["InstanceId"], i.get("PublicIpAddress", ""), i["PrivateIpAddress"]) for i in found)


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("moto")
    yield path
    moto.stop(path)


@pytest.fixture(scope="module")
def story(state_dir: Path) -> dict[str, Any]:
    first = moto.start(state_dir)
    ec2 = client(first.url)
    (image,) = ec2.describe_images(
        Owners=["136693071363"], Filters=[{"Name": "name", "Values": ["debian-13-amd64-20251006-2257"]}]
    )["Images"]
    ec2.run_instances(ImageId=image["ImageId"], InstanceType="t3.micro", MinCount=2, MaxCount=2)
    before = snapshot(first.url)
    again = moto.start(state_dir)
    os.kill(first.pid, signal.SIGKILL)
    os.waitpid(first.pid, 0)  # pytest started it: collect it, as init would have
    restored = moto.start(state_dir)
    return {
        "first": first,
        "again": again,
        "restored": restored,
        "before": before,
        "after": snapshot(restored.url),
        "recording_mode": (state_dir / moto.RECORDING_FILE).stat().st_mode & 0o777,
        "stopped": moto.stop(state_dir),
        "alive": [pid for pid in (first.pid, restored.pid) if moto.is_moto(pid)],
    }


def test_debian_images_are_in_the_emulators_catalogue(story: dict[str, Any]) -> None:
    assert len(story["before"]) == 2


def test_a_second_start_returns_the_running_server(story: dict[str, Any]) -> None:
    assert story["again"] == story["first"]


def test_a_restarted_server_holds_the_same_instances_and_addresses(story: dict[str, Any]) -> None:
    assert story["restored"].pid != story["first"].pid
    assert story["after"] == story["before"]


def test_a_restarted_server_keeps_the_endpoint(story: dict[str, Any]) -> None:
    assert story["restored"].url == story["first"].url


def test_the_recording_is_readable_by_its_owner_only(story: dict[str, Any]) -> None:
    assert story["recording_mode"] == 0o600


def test_stop_ends_every_server_started(story: dict[str, Any]) -> None:
    assert story["stopped"]
    assert story["alive"] == []
