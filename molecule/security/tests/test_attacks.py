"""The app user as an attacker: root must not run or follow what the app user owns.

side_effect.yml, as the app user, replaced the conda and the Python of its Miniconda prefix
with scripts that record who runs them, and planted links to root's directories where the
role keeps `.streamlit`, `.ssh`, `releases` and `.config`; then the deploy ran again (as root,
with become). Both probes the attack targets ran before on every full run as root.
"""

from __future__ import annotations

import json

import pytest
import testinfra

from .conftest import APP_USER, BASE

PLANTED = [".streamlit", ".ssh", "releases", ".config"]


@pytest.mark.parametrize("program", ["conda", "python"])
def test_the_program_the_app_user_replaced_ran_only_as_the_app_user(app: testinfra.host.Host, program: str) -> None:
    ran = app.check_output("ls /tmp | grep '^sod-ran-%s-' || true", program).split()
    assert ran == [f"sod-ran-{program}-{app.user(APP_USER).uid}"]


@pytest.mark.parametrize("name", PLANTED)
def test_a_planted_link_is_replaced_by_a_directory_of_the_app_user(app: testinfra.host.Host, name: str) -> None:
    path = app.file(f"{BASE}/{name}")
    assert not path.is_symlink
    assert path.is_directory
    assert path.user == APP_USER


@pytest.mark.parametrize("name", PLANTED)
def test_the_run_named_each_link_it_removed(play_log: str, name: str) -> None:
    assert f"{BASE}/{name} (was a link)" in play_log


@pytest.mark.parametrize("target", ["streamlit", "ssh", "releases", "config"])
def test_the_directories_the_links_pointed_at_are_untouched(app: testinfra.host.Host, target: str) -> None:
    directory = app.file(f"/etc/sod-target-{target}")
    assert (directory.user, directory.group, directory.mode) == ("root", "root", 0o755)
    assert directory.listdir() == ["keep"]
    keep = app.file(f"/etc/sod-target-{target}/keep")
    assert (keep.user, keep.mode, keep.content_string) == ("root", 0o644, "root's\n")


def test_no_file_outside_the_app_tree_changed_owner_mode_or_existence(app: testinfra.host.Host) -> None:
    before = json.loads(app.file("/root/sod-snapshot-before.json").content_string)
    after = json.loads(app.file("/root/sod-snapshot-after.json").content_string)
    changed = {path: (before.get(path), after.get(path)) for path in before.keys() | after.keys()}
    assert {path: both for path, both in changed.items() if both[0] != both[1]} == {}


def test_the_app_serves_again_after_the_repair(app: testinfra.host.Host) -> None:
    assert app.check_output("curl -fsS --max-time 5 http://127.0.0.1:8501/_stcore/health") == "ok"
