"""The harness's files under .cache/bench: SSH key, stand-in installer, app versions, inventories."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hosts import CA_BUNDLE, LOGIN_USER, Host
from playbook import REPO

EXAMPLE_APP = REPO / "examples" / "hello_streamlit"
STANDIN_DIR = REPO / "tests" / "standins" / "miniconda"
INSTALLER = "Miniconda3-standin.sh"
SSH_OPTIONS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"


@dataclass(frozen=True)
class Workspace:
    root: Path
    installer_dir: Path  # built once per version of the stand-in's sources

    @property
    def key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def public_key(self) -> Path:
        return self.root / "id_ed25519.pub"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def app(self, version: int) -> Path:
        return self.root / "apps" / f"v{version}"

    def installer_checksum(self) -> str:
        return "sha256:" + (self.installer_dir / f"{INSTALLER}.sha256").read_text().split()[0]


def standin_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in STANDIN_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(STANDIN_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def prepare(root: Path) -> Workspace:
    """Create the key pair, build the stand-in installer once, write app versions 1 and 2."""
    work = Workspace(root, root / f"installer-{standin_digest()}")
    shutil.rmtree(work.logs, ignore_errors=True)
    work.logs.mkdir(parents=True)
    if not work.key.exists():
        keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sod-bench", "-f", str(work.key)]
        subprocess.run(keygen, check=True)
    if not (work.installer_dir / f"{INSTALLER}.sha256").exists():
        subprocess.run([str(STANDIN_DIR / "build.sh"), str(work.installer_dir)], check=True, stdout=subprocess.DEVNULL)
    for version in (1, 2):
        shutil.rmtree(work.app(version), ignore_errors=True)
        shutil.copytree(EXAMPLE_APP, work.app(version))
    # Version 2 differs from version 1 by one line: a new release, same requirements.
    with (work.app(2) / "streamlit_app.py").open("a") as app:
        app.write('\nst.caption("Version 2 (deployed by the benchmark)")\n')
    return work


def write_inventory(work: Workspace, hosts: list[Host], installer_url: str, name: str) -> Path:
    """An inventory of the hosts in the group configure.yml targets (streamlit_servers)."""
    group_vars = {
        "ansible_user": LOGIN_USER,
        "ansible_ssh_private_key_file": str(work.key),
        "ansible_ssh_common_args": SSH_OPTIONS,
        "miniconda_installer_url": f"{installer_url}/{INSTALLER}",
        "miniconda_installer_checksum": work.installer_checksum(),
        "miniconda_ca_bundle": CA_BUNDLE,
        "streamlit_app_src": str(work.app(1)),
        # The front door as shipped (nginx, TLS, the redirect), with a self-signed certificate:
        # there is no ACME server here, and the certificate's source costs the same on every run.
        "front_door_certificate_source": "self_signed",
    }
    members = {host.name: {"ansible_host": "127.0.0.1", "ansible_port": host.ssh_port} for host in hosts}
    inventory = {"all": {"children": {"streamlit_servers": {"hosts": members, "vars": group_vars}}}}
    path = work.root / f"inventory-{name}.yml"
    path.write_text(json.dumps(inventory, indent=2))
    return path
