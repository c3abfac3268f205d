"""The collection builds into a tarball that installs and works offline."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from .conftest import REPO, clean_env, tool

ROLES = ["ec2_launch", "miniconda", "streamlit_app", "tmux_service"]


def members(tarball: Path) -> list[str]:
    with tarfile.open(tarball) as archive:
        return archive.getnames()


def test_tarball_is_named_after_galaxy_metadata(collection_tarball: Path) -> None:
    assert collection_tarball.name == "streamlit_ops-deploy-0.1.0.tar.gz"


@pytest.mark.parametrize("ignored", [".venv", ".git", "molecule", "tests", ".cache", ".ansible", ".ci"])
def test_tarball_leaves_out_development_files(collection_tarball: Path, ignored: str) -> None:
    leaked = [name for name in members(collection_tarball) if name == ignored or name.startswith(f"{ignored}/")]
    assert leaked == []


@pytest.mark.parametrize("role", ROLES)
def test_installed_role_documents_its_arguments(installed_collections: Path, role: str) -> None:
    result = subprocess.run(
        [tool("ansible-doc"), "-t", "role", f"streamlit_ops.deploy.{role}"],
        capture_output=True,
        text=True,
        env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(installed_collections), ANSIBLE_CONFIG="/dev/null"),
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
