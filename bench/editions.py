"""The collection before the speed work, as shipped, with uv, and without the front door: one fresh host each.

Each edition gets a fresh host and the same three runs as the main 1-host figures: the fresh
converge, the no-op re-run and the update to app version 2 under polling. "before" runs the
collection as it was at BEFORE_COMMIT (extracted with git archive, resolved through
ANSIBLE_COLLECTIONS_PATH), so before and after are measured in the same run, on the same machine.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import hosts
import playbook
import scenarios
from workspace import Workspace, write_inventory

# The last commit before issue 7's "make it fast" changes to the roles.
BEFORE_COMMIT = "d529a21"


@dataclass(frozen=True)
class Edition:
    name: str
    description: str
    env: dict[str, str] = field(default_factory=dict)
    extra_vars: dict[str, str] = field(default_factory=dict)
    playbook: str = scenarios.CONFIGURE
    front_door: bool = True  # whether users reach the app through the front door (HTTPS)


@dataclass(frozen=True)
class EditionResult:
    fresh: playbook.RunResult
    noop: playbook.RunResult
    update: scenarios.UpdateResult


# What the front door (nginx, TLS) costs: the same runs with the app served directly.
NO_FRONT_DOOR = Edition(
    "no front door",
    "as shipped, with front_door_enabled=false (Streamlit served directly, as the manual recipe does)",
    extra_vars={"front_door_enabled": "false"},
    front_door=False,
)
UV = Edition("uv", "as shipped, with streamlit_app_installer=uv", extra_vars={"streamlit_app_installer": "uv"})
# The update as it was before handovers: stop the live release, then start the new one.
RESTART = Edition(
    "restart",
    "as shipped, with streamlit_app_update_strategy=restart",
    extra_vars={"streamlit_app_update_strategy": "restart"},
)


def before(root: Path, commit: str = BEFORE_COMMIT) -> Edition | None:
    """The collection at COMMIT, extracted under ROOT; None when the checkout lacks that commit."""
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
        cwd=playbook.REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        return None
    tree = root / f"before-{commit}"
    collection = tree / "collections" / "ansible_collections" / "streamlit_ops" / "deploy"
    if not collection.is_dir():
        shutil.rmtree(tree, ignore_errors=True)
        collection.mkdir(parents=True)
        archive = subprocess.Popen(["git", "archive", commit], cwd=playbook.REPO, stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(collection)], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            msg = f"git archive {commit} failed"
            raise RuntimeError(msg)
    return Edition(
        f"before ({commit})",
        f"the collection at commit {commit}, before the speed work",
        env={"ANSIBLE_COLLECTIONS_PATH": str(tree / "collections")},
        playbook=str(collection / "playbooks" / "configure.yml"),
        front_door=False,  # it had none
    )


def measure(work: Workspace, installer_url: str, edition: Edition, tag: str) -> EditionResult:
    """Fresh converge, no-op re-run and update of one fresh host with EDITION."""
    slug = edition.name.split(" (")[0].replace(" ", "-")
    (host,) = hosts.start_hosts(f"{slug}{tag}", 1, work.public_key)
    try:
        inventory = write_inventory(work, [host], installer_url, f"{slug}{tag}")

        # As the main figures: only the fresh converge is profiled (the callback costs a little).
        def run(name: str, extra_vars: dict[str, str] | None = None, profile: bool = False) -> playbook.RunResult:
            env = {**(playbook.PROFILE_ENV if profile else {}), **edition.env}
            log = work.logs / f"{name}-{slug}-{tag}.log"
            variables = {**edition.extra_vars, **(extra_vars or {})}
            return playbook.run(edition.playbook, log, inventory=inventory, extra_vars=variables, env=env).check()

        fresh = run("fresh", profile=True)
        noop = run("noop")
        update = scenarios.measure_update_with(
            host, lambda: run("update", {"streamlit_app_src": str(work.app(2))}), front_door=edition.front_door
        )
        return EditionResult(fresh, noop, update)
    finally:
        hosts.remove([host])
