"""miniconda_skip_if_converged: one probe instead of the full path, unless something drifted.

The scenario's own runs take the full path (the variable is false in molecule.yml) and
record what they left; these runs of converge.yml turn the shortcut on.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import testinfra
from conftest import EPHEMERAL, PREFIX, TARGET_NAMES, TARGETS

testinfra_hosts: list[str] = []
CONVERGE = Path(__file__).resolve().parent.parent / "converge.yml"
CONDARC = f"{PREFIX}/.condarc"
FULL_PATH_TASK = "Look up the app user"


def converge() -> str:
    result = subprocess.run(
        [
            "ansible-playbook",
            "-v",
            *("-i", os.environ["MOLECULE_INVENTORY_FILE"]),
            *("-e", '{"miniconda_skip_if_converged": true}'),
            str(CONVERGE),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, "ANSIBLE_CONFIG": str(EPHEMERAL / "ansible.cfg"), "ANSIBLE_NOCOLOR": "true"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout


def changed(output: str, name: str) -> int:
    match = re.search(rf"^{re.escape(name)}\s+:.*\bchanged=(\d+)", output, re.MULTILINE)
    assert match, f"no recap line for {name}"
    return int(match.group(1))


@pytest.fixture(scope="module")
def targets() -> list[testinfra.host.Host]:
    return [testinfra.get_host(target) for target in TARGETS]


@pytest.fixture(scope="module")
def shortcut() -> str:
    return converge()


def test_a_converged_install_is_left_after_one_probe(shortcut: str) -> None:
    assert shortcut.count("reason: in sync") == len(TARGET_NAMES)
    assert FULL_PATH_TASK not in shortcut
    assert [changed(shortcut, name) for name in TARGET_NAMES] == [0] * len(TARGET_NAMES)


@pytest.fixture(scope="module")
def drifted(targets: list[testinfra.host.Host], shortcut: str) -> tuple[str, list[str]]:
    originals = [target.file(CONDARC).content_string for target in targets]
    for target in targets:
        target.run_expect([0], f"echo 'channel_priority: disabled' >> {CONDARC}")
    return converge(), originals


def test_an_edited_condarc_takes_the_full_path_and_is_restored(
    drifted: tuple[str, list[str]], targets: list[testinfra.host.Host]
) -> None:
    output, originals = drifted
    assert output.count(f"reason: {CONDARC} changed (content)") == len(TARGET_NAMES)
    assert FULL_PATH_TASK in output
    assert [changed(output, name) for name in TARGET_NAMES] == [1] * len(TARGET_NAMES)
    assert [target.file(CONDARC).content_string for target in targets] == originals


def test_after_the_repair_the_shortcut_applies_again(drifted: tuple[str, list[str]]) -> None:
    output = converge()
    assert output.count("reason: in sync") == len(TARGET_NAMES)
    assert FULL_PATH_TASK not in output
