"""Fixtures shared by the controller-side suites."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"


def tool(name: str) -> str:
    """The project's pinned copy of a command-line tool."""
    path = VENV_BIN / name
    return str(path) if path.exists() else name


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any Ansible settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    env.update(extra)
    return env


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
