"""The converged module and the tree_digest lookup, run as Ansible runs them, on the controller."""

from __future__ import annotations

import functools
import http.server
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, clean_env
from tests.support.playbook import run_playbook

MODULE = REPO / "plugins" / "modules" / "converged.py"
# Where `make setup` links the checkout as streamlit_ops.deploy: the module imports its module_utils from there.
COLLECTIONS = REPO / ".ansible" / "collections"


def converged(tmp_path: Path, **args: Any) -> dict[str, Any]:
    """Run the module with ARGS (plus _ansible_check_mode) the way AnsiballZ hands them over; return its result."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    result = subprocess.run(
        [sys.executable, str(MODULE), str(args_file)],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(PYTHONPATH=str(COLLECTIONS)),
    )
    assert result.stdout.strip().startswith("{"), result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def managed(tmp_path: Path) -> dict[str, Any]:
    """A small managed tree and the module arguments that record it."""
    root = tmp_path / "app"
    root.mkdir()
    (root / "config.toml").write_text("port = 8501\n")
    (root / "config.toml").chmod(0o600)
    (root / "releases").mkdir()
    (root / "current").symlink_to("releases")
    return {
        "path": str(tmp_path / "state" / "app.json"),
        "digest": "inputs-1",
        "files": [str(root / "config.toml"), str(root / "current"), str(root / "secrets.toml"), str(root)],
        "outputs": {"app_url": "http://127.0.0.1:8501/"},
    }


@pytest.fixture
def recorded(tmp_path: Path, managed: dict[str, Any]) -> dict[str, Any]:
    result = converged(tmp_path, state="record", **managed)
    assert not result.get("failed"), result
    assert result["changed"] is True
    return managed


def probe(tmp_path: Path, args: dict[str, Any]) -> dict[str, Any]:
    return converged(tmp_path, path=args["path"], digest=args["digest"])


def test_without_a_record_the_host_is_not_in_sync(tmp_path: Path, managed: dict[str, Any]) -> None:
    result = probe(tmp_path, managed)
    assert (result["in_sync"], result["reason"], result["changed"]) == (False, "no record of an earlier run", False)


def test_an_untouched_host_is_in_sync_and_gets_the_outputs_back(tmp_path: Path, recorded: dict[str, Any]) -> None:
    result = probe(tmp_path, recorded)
    assert (result["in_sync"], result["reason"]) == (True, "in sync")
    assert result["outputs"] == {"app_url": "http://127.0.0.1:8501/"}


def test_the_record_is_private_and_rewriting_it_changes_nothing(tmp_path: Path, recorded: dict[str, Any]) -> None:
    stamp = Path(recorded["path"])
    assert (stamp.stat().st_mode & 0o777, stamp.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    assert converged(tmp_path, state="record", **recorded)["changed"] is False


def test_other_inputs_are_not_in_sync(tmp_path: Path, recorded: dict[str, Any]) -> None:
    result = probe(tmp_path, {**recorded, "digest": "inputs-2"})
    assert (result["in_sync"], result["reason"]) == (False, "the inputs or the role changed since the last run")
    assert result["outputs"] == {}


@pytest.mark.parametrize(
    ("drift", "reason"),
    [
        (lambda root: (root / "config.toml").write_text("port = 80\n"), "config.toml changed (content)"),
        (lambda root: (root / "config.toml").chmod(0o644), "config.toml changed (mode)"),
        (lambda root: (root / "config.toml").unlink(), "config.toml is now missing (was file)"),
        (lambda root: (root / "secrets.toml").write_text("x = 1\n"), "secrets.toml is now file (was missing)"),
        (
            lambda root: ((root / "current").unlink(), (root / "current").symlink_to("config.toml")),
            "current changed (link target)",
        ),
    ],
    ids=["content", "mode", "removed", "appeared", "relinked"],
)
def test_a_drifted_file_is_named(tmp_path: Path, recorded: dict[str, Any], drift: Any, reason: str) -> None:
    drift(tmp_path / "app")
    result = probe(tmp_path, recorded)
    assert result["in_sync"] is False
    assert result["reason"] == f"{tmp_path / 'app'}/{reason}"


def test_check_mode_records_nothing(tmp_path: Path, managed: dict[str, Any]) -> None:
    result = converged(tmp_path, state="record", _ansible_check_mode=True, **managed)
    assert result["changed"] is True
    assert not Path(managed["path"]).exists()


def test_absent_removes_the_record(tmp_path: Path, recorded: dict[str, Any]) -> None:
    assert converged(tmp_path, path=recorded["path"], state="absent")["changed"] is True
    assert not Path(recorded["path"]).exists()
    assert converged(tmp_path, path=recorded["path"], state="absent")["changed"] is False


@pytest.fixture
def server(tmp_path: Path) -> Iterator[http.server.HTTPServer]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_a_url_that_stops_answering_is_not_in_sync(
    tmp_path: Path, managed: dict[str, Any], server: http.server.HTTPServer
) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    assert converged(tmp_path, state="record", urls=[url], **managed)["changed"] is True
    assert probe(tmp_path, managed)["in_sync"] is True
    server.shutdown()
    server.server_close()
    result = probe(tmp_path, managed)
    assert result["in_sync"] is False
    assert result["reason"].startswith(f"{url} did not answer")


def test_a_url_answering_an_error_status_is_not_in_sync(
    tmp_path: Path, managed: dict[str, Any], server: http.server.HTTPServer
) -> None:
    (tmp_path / "health").write_text("ok")
    url = f"http://127.0.0.1:{server.server_address[1]}/health"
    assert converged(tmp_path, state="record", urls=[url], **managed)["changed"] is True
    assert probe(tmp_path, managed)["in_sync"] is True
    (tmp_path / "health").unlink()
    result = probe(tmp_path, managed)
    assert (result["in_sync"], result["reason"]) == (False, f"{url} answered 404")


def test_a_url_answering_something_other_than_http_is_never_recorded(tmp_path: Path, recorded: dict[str, Any]) -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_once() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(1024)
            connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

    thread = threading.Thread(target=answer_once, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    result = converged(tmp_path, state="record", urls=[url], **recorded)
    thread.join(timeout=10)
    listener.close()
    assert (result["changed"], result["reason"]) == (False, "not recorded")
    assert f"{url} did not answer: not an HTTP status line" in json.dumps(result["warnings"])


def test_a_url_that_does_not_answer_is_never_recorded(tmp_path: Path, recorded: dict[str, Any]) -> None:
    result = converged(tmp_path, state="record", urls=["http://127.0.0.1:9/"], **recorded)
    assert not result.get("failed"), result
    assert (result["changed"], result["reason"]) == (False, "not recorded")
    assert "http://127.0.0.1:9/ did not answer" in json.dumps(result["warnings"])
    assert not Path(recorded["path"]).exists()  # the older record is gone too


@pytest.mark.parametrize(
    ("url", "why"), [("http://[::1:9/", "Invalid IPv6 URL"), ("http:///health", "no host in the URL")]
)
def test_a_malformed_url_is_reported_not_raised(tmp_path: Path, recorded: dict[str, Any], url: str, why: str) -> None:
    result = converged(tmp_path, state="record", urls=[url], **recorded)
    assert (result.get("failed"), result["reason"]) == (None, "not recorded"), result
    assert f"{url} did not answer: {why}" in json.dumps(result["warnings"])


def test_a_link_records_the_file_it_resolves_to(tmp_path: Path) -> None:
    (tmp_path / "python3.12").write_bytes(b"interpreter 1")
    (tmp_path / "python").symlink_to("python3.12")
    args = {"path": str(tmp_path / "stamp.json"), "digest": "inputs-of-the-python", "files": [str(tmp_path / "python")]}
    converged(tmp_path, state="record", **args)
    (tmp_path / "python3.12").write_bytes(b"interpreter 2")
    result = probe(tmp_path, args)
    assert result["reason"] == f"{tmp_path}/python changed (content of the file the link resolves to)"


def test_forget_removes_a_record_that_no_longer_holds(tmp_path: Path, recorded: dict[str, Any]) -> None:
    result = converged(tmp_path, path=recorded["path"], digest="inputs-2", forget=True)
    assert (result["in_sync"], result["changed"]) == (False, False)
    assert not Path(recorded["path"]).exists()


def test_forget_keeps_a_record_that_holds(tmp_path: Path, recorded: dict[str, Any]) -> None:
    assert converged(tmp_path, path=recorded["path"], digest="inputs-1", forget=True)["in_sync"] is True
    assert Path(recorded["path"]).exists()


PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    example_port: 8501
  tasks:
    - name: Probe
      streamlit_ops.deploy.converged:
        path: "{{ stamp }}"
        inputs: {variables: ["^example_"], trees: ["{{ tree }}"]}
        forget: "{{ forget | default(false) }}"
      register: probe
    - name: Record
      streamlit_ops.deploy.converged:
        path: "{{ stamp }}"
        state: record
        inputs: {variables: ["^example_"], trees: ["{{ tree }}"]}
      when: not (probe_only | default(false) | bool)
    - name: Show
      ansible.builtin.debug:
        msg: "probe said {{ probe.in_sync }}: {{ probe.reason }}"
"""


def play(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    """Run PLAYBOOK (probe, then record) on the controller; return the probe's message."""
    return run_play(tmp_path, *extra, env=env)[0]


def run_play(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    """Run PLAYBOOK (probe, then record) on the controller; return the probe's message and the output."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    tree = tmp_path / "role"
    tree.mkdir(exist_ok=True)
    result = run_playbook(
        playbook,
        inventory="localhost,",
        extra_vars={"stamp": f"{tmp_path}/stamp.json", "tree": str(tree)},
        options=extra,
        env={"ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json", **(env or {})},
        isolated=True,
    )
    assert result.rc == 0, result.output
    (message,) = re.findall(r'"msg": "(probe said .*)"$', result.stdout, re.MULTILINE)
    return message, result.output


def test_the_action_hashes_the_variables_and_the_tree(tmp_path: Path) -> None:
    assert play(tmp_path) == "probe said False: no record of an earlier run"
    assert play(tmp_path) == "probe said True: in sync"
    assert (
        play(tmp_path, "-e", "example_port=8502")
        == "probe said False: the inputs or the role changed since the last run"
    )
    assert play(tmp_path, "-e", "example_port=8502") == "probe said True: in sync"
    (tmp_path / "role" / "tasks.yml").write_text("---\n")
    assert (
        play(tmp_path, "-e", "example_port=8502")
        == "probe said False: the inputs or the role changed since the last run"
    )


def test_an_input_that_cannot_be_read_yet_means_the_full_path(tmp_path: Path) -> None:
    message = play(tmp_path, "-e", "example_late={{ ansible_facts.nothing_gathered }}", "-e", "probe_only=true")
    assert message.startswith("probe said False: an input cannot be read before the full path runs:")


def test_inputs_that_cannot_be_read_are_not_recorded(tmp_path: Path) -> None:
    assert play(tmp_path) == "probe said False: no record of an earlier run"
    _, output = run_play(tmp_path, "-e", "example_late={{ ansible_facts.nothing_gathered }}")
    assert "Not recording the converged state (the next run takes the full path)" in output
    assert not (tmp_path / "stamp.json").exists()


# With pipelining (the collection's ansible.cfg), a probe first runs the module_utils code on the
# target's Python directly: `<python> -`, where a module run pipes AnsiballZ to a bare `<python>`.
PIPELINED = {"ANSIBLE_PIPELINING": "true"}


def commands(output: str) -> list[str]:
    """What the connection ran, from -vvv output: 'quick' for the quick probe, 'module' for a module run."""
    found = re.findall(r"^<localhost> EXEC /bin/sh -c '(.*?) && sleep 0'$", output, re.MULTILINE)
    return ["quick" if command.endswith(" -") else "module" for command in found]


def test_with_pipelining_an_in_sync_host_is_answered_without_a_module_run(tmp_path: Path) -> None:
    assert play(tmp_path, env=PIPELINED) == "probe said False: no record of an earlier run"
    message, output = run_play(tmp_path, "-vvv", "-e", "probe_only=true", env=PIPELINED)
    assert message == "probe said True: in sync"
    assert commands(output) == ["quick"]


def test_with_pipelining_a_host_not_in_sync_gets_the_modules_answer_which_forgets(tmp_path: Path) -> None:
    play(tmp_path, env=PIPELINED)
    (tmp_path / "role" / "tasks.yml").write_text("---\n")
    message, output = run_play(tmp_path, "-vvv", "-e", "probe_only=true", "-e", "forget=true", env=PIPELINED)
    assert message == "probe said False: the inputs or the role changed since the last run"
    assert commands(output) == ["quick", "module"]
    assert not (tmp_path / "stamp.json").exists()


def test_an_interpreter_given_with_arguments_runs_the_quick_probe(tmp_path: Path) -> None:
    play(tmp_path, env=PIPELINED)
    message, output = run_play(
        tmp_path,
        "-vvv",
        "-e",
        "probe_only=true",
        "-e",
        f"ansible_python_interpreter='/usr/bin/env PYTHONDONTWRITEBYTECODE=1 {sys.executable}'",
        env=PIPELINED,
    )
    assert message == "probe said True: in sync"
    assert commands(output) == ["quick"]


def test_a_python_that_cannot_run_the_quick_probe_leaves_the_answer_to_the_module(tmp_path: Path) -> None:
    play(tmp_path, env=PIPELINED)
    # Fails only as the quick probe runs it (`python -`), as a Python older than 3.7 would.
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\n[ "$1" = - ] && exit 3\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    message, output = run_play(
        tmp_path, "-vvv", "-e", "probe_only=true", "-e", f"ansible_python_interpreter={python}", env=PIPELINED
    )
    assert message == "probe said True: in sync"
    assert commands(output) == ["quick", "module"]


def test_without_pipelining_the_module_answers(tmp_path: Path) -> None:
    play(tmp_path)
    message, output = run_play(tmp_path, "-vvv", "-e", "probe_only=true", env={"ANSIBLE_PIPELINING": "false"})
    assert message == "probe said True: in sync"
    assert "quick" not in commands(output)


def test_publish_sets_the_recorded_outputs_as_facts_when_in_sync(tmp_path: Path, recorded: dict[str, Any]) -> None:
    result = converged(tmp_path, path=recorded["path"], digest=recorded["digest"], publish=True)
    assert result["in_sync"]
    assert result["ansible_facts"] == {"app_url": "http://127.0.0.1:8501/"}


def test_publish_sets_nothing_when_not_in_sync(tmp_path: Path, recorded: dict[str, Any]) -> None:
    result = converged(tmp_path, path=recorded["path"], digest="inputs-2", publish=True)
    assert not result["in_sync"]
    assert "ansible_facts" not in result


# The gate role around a stand-in for a configuring role: it publishes an output fact (which
# matches the gate's variable pattern, as the roles' outputs would) and what it manages.
GATED = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    example_port: 8501
    converged_name: example
    converged_variables: ["^example_"]
    converged_roles: [example]
  tasks:
    - name: Gate
      ansible.builtin.import_role:
        name: streamlit_ops.deploy.converged
        tasks_from: check
        rolespec_validate: false  # as configure.yml: the entry point checks the play's gate variables itself
    - name: The role's work
      ansible.builtin.set_fact:
        example_url: "http://127.0.0.1:{{ example_port }}/"
        example_managed:
          files: ["{{ managed_file }}"]
          facts:
            example_url: "http://127.0.0.1:{{ example_port }}/"
            example_summary: "App URL for {{ example_port }}"
    - name: Record
      ansible.builtin.import_role:
        name: streamlit_ops.deploy.converged
        tasks_from: record
"""


def run_gated(tmp_path: Path, *extra: str, rc: int = 0) -> str:
    playbook = tmp_path / "gated.yml"
    playbook.write_text(GATED)
    (tmp_path / "managed.conf").touch()
    result = run_playbook(
        playbook,
        inventory="localhost,",
        extra_vars={"managed_file": f"{tmp_path}/managed.conf"},
        options=extra,
        env={"ANSIBLE_LOCALHOST_WARNING": "false"},
        isolated=True,
    )
    assert result.rc == rc, result.output
    return result.stdout


def test_the_gate_ends_a_play_whose_host_is_as_the_last_run_left_it(tmp_path: Path) -> None:
    stamp = f"__converged_stamp={tmp_path}/example.json"
    first = run_gated(tmp_path, "-e", stamp)
    assert "The role's work" in first
    second = run_gated(tmp_path, "-e", stamp)
    assert "TASK [The role's work]" not in second
    assert "App URL for 8501" in second


def test_the_gate_records_the_inputs_as_they_were_before_the_roles_set_facts(tmp_path: Path) -> None:
    # example_url matches the gate's pattern, but is set by the role: the record must not take it in.
    stamp = f"__converged_stamp={tmp_path}/example.json"
    run_gated(tmp_path, "-e", stamp)
    assert "TASK [The role's work]" not in run_gated(tmp_path, "-e", stamp)
    assert "TASK [The role's work]" in run_gated(tmp_path, "-e", stamp, "-e", "example_port=8502")


def test_a_drifted_managed_file_lets_the_role_run(tmp_path: Path) -> None:
    stamp = f"__converged_stamp={tmp_path}/example.json"
    run_gated(tmp_path, "-e", stamp)
    (tmp_path / "managed.conf").write_text("edited\n")
    assert "TASK [The role's work]" in run_gated(tmp_path, "-e", stamp)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("converged_name=../../../etc/cron.d/x", "converged_name '../../../etc/cron.d/x' must be letters, digits"),
        ("converged_enabled=maybe", "converged_enabled"),
        ('{"converged_roles": {"not": "a list"}}', "converged_roles"),
    ],
    ids=["name_escapes_the_record_directory", "enabled_not_a_boolean", "roles_not_a_list"],
)
def test_the_gate_refuses_bad_variables_before_it_probes_or_records(tmp_path: Path, setting: str, message: str) -> None:
    stamp = tmp_path / "example.json"
    output = run_gated(tmp_path, "-e", f"__converged_stamp={stamp}", "-e", setting, rc=2)
    assert message in output
    assert "TASK [The role's work]" not in output
    assert not stamp.exists()
