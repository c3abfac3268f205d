"""Scaling one deployment 1 -> 3 -> 1 with ec2_launch_count (deployment molecule-life)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest
from conftest import group_members


@pytest.fixture(scope="module")
def life(sequences: dict[str, Future[Any]]) -> dict[str, Any]:
    return sequences["lifecycle"].result()


def test_a_count_of_one_launches_one_instance(life: dict[str, Any]) -> None:
    assert len(life["ids1"]) == 1


def test_raising_the_count_to_three_runs_three_instances(life: dict[str, Any]) -> None:
    assert len(life["ids3"]) == 3


def test_scaling_up_keeps_the_instance_already_running(life: dict[str, Any]) -> None:
    assert set(life["ids1"]) <= set(life["ids3"])


def test_lowering_the_count_to_one_leaves_one_running_instance(life: dict[str, Any]) -> None:
    assert len(life["ids_down"]) == 1


def test_the_group_holds_the_running_instance_after_the_first_run(life: dict[str, Any]) -> None:
    assert group_members(life["up1"]) == life["ids1"]


def test_the_group_holds_exactly_the_running_instances_after_scaling_up(life: dict[str, Any]) -> None:
    assert group_members(life["up3"]) == life["ids3"]


def test_the_group_holds_exactly_the_running_instances_after_scaling_down(life: dict[str, Any]) -> None:
    assert group_members(life["down1"]) == life["ids_down"]


def test_the_created_private_key_is_written_with_mode_0600(life: dict[str, Any]) -> None:
    assert life["key_mode"] == 0o600


def test_the_created_private_key_never_reaches_the_output(life: dict[str, Any]) -> None:
    assert "PRIVATE KEY" not in life["up1"].output
