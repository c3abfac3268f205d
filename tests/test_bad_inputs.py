"""Every role refuses bad input on the controller, before anything is created or changed.

Each role has a ``validate`` entry point (its argument specs and the asserts that need no host),
which ``playbooks/site.yml`` runs for every role before it provisions or configures anything.
The tables in ``tests/bad_inputs/<role>.yml`` list, per role, a ``baseline`` of valid inputs,
``cases`` that must be refused (each names the variables the message must name) and ``good``
inputs that must be accepted (survey-style strings from AWX, ``-e key=value`` numbers).

All cases of all tables run in one ``ansible-playbook`` run on two local workers, one block per
case: the case's variables are the block's, its task includes the role's ``validate`` entry
point, and its rescue records the message.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from .support.playbook import REPO, run_playbook

TABLES = REPO / "tests" / "bad_inputs"
# Local "hosts" that share the cases, so that they are checked in parallel, one per core.
WORKERS = ("worker0", "worker1")


def load_tables() -> dict[str, dict[str, Any]]:
    return {path.stem: yaml.safe_load(path.read_text()) for path in sorted(TABLES.glob("*.yml"))}


def all_cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(role, kind, case) for every case and good input, plus each role's baseline as a good input."""
    found = []
    for role, table in load_tables().items():
        found.append((role, "good", {"case": "baseline", "vars": {}}))
        found += [(role, "bad", case) for case in table.get("cases", [])]
        found += [(role, "good", case) for case in table.get("good", [])]
    return found


def case_id(role: str, kind: str, case: dict[str, Any]) -> str:
    return f"{role}-{kind}-{case['case']}"


def case_block(role: str, kind: str, case: dict[str, Any], baseline: dict[str, Any], worker: str) -> dict[str, Any]:
    """A block that validates one case (its variables as block variables) on WORKER and records how it ended."""
    key = case_id(role, kind, case)
    return {
        "name": key,
        "when": f"inventory_hostname == {worker!r}",
        "vars": {**baseline, **case["vars"], "sod_case": key},
        "block": [
            {
                "name": "Run the role's validate entry point",
                "ansible.builtin.include_role": {"name": f"streamlit_ops.deploy.{role}", "tasks_from": "validate"},
            },
            {
                "name": "Record that the case was accepted",
                "ansible.builtin.set_fact": {
                    "sod_outcomes": "{{ sod_outcomes | default({}) | combine({sod_case: {'failed': false}}) }}"
                },
            },
        ],
        "rescue": [
            {
                "name": "Record the refusal",
                "ansible.builtin.set_fact": {
                    "sod_outcomes": (
                        "{{ sod_outcomes | default({}) | combine({sod_case: {'failed': true, "
                        "'msg': ([ansible_failed_result.msg | default('')] + (ansible_failed_result.results "
                        "| default([]) | selectattr('failed', 'defined') | selectattr('failed') "
                        "| map(attribute='msg') | list)) | join(' ')}}) }}"
                    )
                },
            }
        ],
    }


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("bad_inputs")
    tables = load_tables()
    blocks = [
        case_block(role, kind, case, tables[role].get("baseline", {}), WORKERS[index % len(WORKERS)])
        for index, (role, kind, case) in enumerate(all_cases())
    ]
    result_file = work / "outcomes.json"
    blocks.append(
        {
            "name": "Write the outcomes",
            "ansible.builtin.copy": {
                "content": (
                    "{{ ansible_play_hosts_all | map('extract', hostvars, 'sod_outcomes') | select('defined')"
                    " | combine | to_json }}"
                ),
                "dest": str(result_file),
                "mode": "0600",
            },
            "changed_when": False,
            "run_once": True,
        }
    )
    plays = [{"name": "Validate every case", "hosts": "all", "gather_facts": False, "tasks": blocks}]
    playbook = work / "cases.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    done = run_playbook(
        playbook,
        inventory=",".join(WORKERS) + ",",
        extra_vars={"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        options=["-c", "local"],
        isolated=True,
    )
    assert done.rc == 0, done.stdout[-4000:] + done.stderr[-4000:]
    recaps = [counts["changed"] for host, counts in done.recap().items() if host in WORKERS]
    assert len(recaps) == len(WORKERS), done.stdout[-2000:]
    return {"changed": sum(recaps), "cases": json.loads(result_file.read_text())}


def test_validation_changes_nothing(outcomes: dict[str, Any]) -> None:
    assert outcomes["changed"] == 0


@pytest.mark.parametrize(
    ("role", "kind", "case"),
    [pytest.param(*entry, id=case_id(*entry)) for entry in all_cases()],
)
def test_input(outcomes: dict[str, Any], role: str, kind: str, case: dict[str, Any]) -> None:
    outcome = outcomes["cases"][case_id(role, kind, case)]
    if kind == "good":
        assert not outcome["failed"], outcome.get("msg")
        return
    assert outcome["failed"], f"{case['vars']} was accepted"
    for name in case["names"]:
        assert name in outcome["msg"], f"the message does not name {name}: {outcome['msg']}"


def test_tables_hold_at_least_150_refusals() -> None:
    refused = sum(len(table.get("cases", [])) for table in load_tables().values())
    assert refused >= 150, refused
