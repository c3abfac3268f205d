"""The collection builds into a tarball that installs and works offline."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from .conftest import REPO, clean_env, tool
from .support import moto
from .support.playbook import run_playbook

# Every role of the collection, so a new one is checked without editing this list.
ROLES = sorted(path.name for path in (REPO / "roles").iterdir() if path.is_dir())


def test_tarball_is_named_after_galaxy_metadata(collection_tarball: Path) -> None:
    assert collection_tarball.name == "streamlit_ops-deploy-0.1.0.tar.gz"


@pytest.mark.parametrize("role", ROLES)
def test_installed_role_documents_its_arguments(installed_collections: Path, role: str) -> None:
    result = subprocess.run(
        [tool("ansible-doc"), "-t", "role", f"streamlit_ops.deploy.{role}"],
        capture_output=True,
        text=True,
        env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(installed_collections)),
        cwd=installed_collections,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"{role}_" in result.stdout


def test_installed_runtime_requires_the_pinned_ansible_line(installed_collections: Path) -> None:
    runtime = installed_collections / "ansible_collections" / "streamlit_ops" / "deploy" / "meta" / "runtime.yml"
    assert 'requires_ansible: ">=2.19.0,<2.20.0"' in runtime.read_text()


def test_checkout_is_linked_as_the_collection() -> None:
    link = REPO / ".ansible" / "collections" / "ansible_collections" / "streamlit_ops" / "deploy"
    assert link.resolve() == REPO


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto.running(tmp_path_factory.mktemp("moto")) as server:
        yield server.url


@pytest.fixture(scope="module")
def public_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = tmp_path_factory.mktemp("key") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key.with_suffix(".pub")


def run(playbook: str, extra_vars: dict[str, object], env: dict[str, str | None], cwd: Path) -> str:
    """Run PLAYBOOK from CWD as a user's clean shell would, with ENV; it must succeed."""
    result = run_playbook(playbook, extra_vars=extra_vars, env=env, cwd=cwd, isolated=True)
    assert result.rc == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout


def deployment_instances(moto_url: str, name: str) -> list[str]:
    client = boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    filters = [
        {"Name": "tag:streamlit_ops_deployment", "Values": [name]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]},
    ]
    reservations = client.describe_instances(Filters=filters)["Reservations"]
    return [i["InstanceId"] for r in reservations for i in r["Instances"]]


def playbook_inputs(name: str, moto_url: str, public_key: Path) -> dict[str, object]:
    return {
        "ec2_launch_name": name,
        "ec2_launch_region": "us-east-1",
        "ec2_launch_endpoint_url": moto_url,
        "ec2_launch_ssh_cidrs": ["203.0.113.7/32"],
        "ec2_launch_public_key_file": str(public_key),
        "ec2_launch_wait_for_ssh": False,
        # Never this machine's own ~/.ssh/known_hosts.
        "ec2_launch_known_hosts_file": str(public_key.parent / f"known_hosts_{name}"),
    }


AWS_ENV: dict[str, str | None] = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def test_playbooks_run_from_the_checkout(moto_url: str, public_key: Path) -> None:
    inputs = playbook_inputs("from-checkout", moto_url, public_key)
    run("playbooks/provision.yml", inputs, AWS_ENV, REPO)
    assert len(deployment_instances(moto_url, "from-checkout")) == 1
    run("playbooks/teardown.yml", inputs, AWS_ENV, REPO)
    assert deployment_instances(moto_url, "from-checkout") == []


def test_playbooks_run_by_name_from_the_installed_collection(
    moto_url: str, public_key: Path, installed_collections: Path
) -> None:
    inputs = playbook_inputs("from-installed", moto_url, public_key)
    # Not the checkout's ansible.cfg: only the installed collection.
    env = {"ANSIBLE_CONFIG": None, "ANSIBLE_COLLECTIONS_PATH": str(installed_collections), **AWS_ENV}
    run("streamlit_ops.deploy.provision", inputs, env, installed_collections)
    assert len(deployment_instances(moto_url, "from-installed")) == 1
    run("streamlit_ops.deploy.teardown", inputs, env, installed_collections)
    assert deployment_instances(moto_url, "from-installed") == []
