"""Fixtures shared by the controller-side suites."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.playbook import REPO, environment
from tests.support.playbook import executable as tool

__all__ = ["REPO", "clean_env", "tool"]


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any Ansible setting, not even the checkout's ansible.cfg, plus EXTRA.

    What tests/support/playbook.py gives an isolated run (this checkout's tools first on PATH, no
    colour), for commands that must not see the checkout's configuration (ansible-galaxy install,
    ansible-doc against an installed tarball, the demo scripts, which choose their own).
    """
    return environment({"ANSIBLE_CONFIG": None, **extra}, isolated=True)


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        [tool("ansible-galaxy"), "collection", "build", "--output-path", str(out), str(REPO)],
        check=True,
        capture_output=True,
        env=clean_env(),
    )
    (tarball,) = out.glob("streamlit_ops-deploy-*.tar.gz")
    return tarball


@pytest.fixture(scope="session")
def installed_collections(tmp_path_factory: pytest.TempPathFactory, collection_tarball: Path) -> Path:
    """A collections directory holding only the freshly built collection."""
    dest = tmp_path_factory.mktemp("collections")
    tarball_arg = [str(collection_tarball)]
    subprocess.run(
        [tool("ansible-galaxy"), "collection", "install", "--offline", "--force", "-p", str(dest), *tarball_arg],
        check=True,
        capture_output=True,
        env=clean_env(),
        cwd=dest,  # not the checkout, whose ansible.cfg already resolves the collection
    )
    return dest
