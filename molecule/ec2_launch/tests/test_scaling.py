"""Scaling one deployment 1 -> 3 -> 1 with ec2_launch_count (deployment molecule-scale)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest
import yaml
from conftest import group_members


@pytest.fixture(scope="module")
def scale(sequences: dict[str, Future[Any]]) -> dict[str, Any]:
    return sequences["scaling"].result()


def test_a_count_of_one_launches_one_instance(scale: dict[str, Any]) -> None:
    assert len(scale["ids_up1"]) == 1


def test_raising_the_count_to_three_runs_three_instances(scale: dict[str, Any]) -> None:
    assert len(scale["ids_up3"]) == 3


def test_scaling_up_keeps_the_instance_already_running(scale: dict[str, Any]) -> None:
    assert set(scale["ids_up1"]) <= set(scale["ids_up3"])


def test_lowering_the_count_to_one_leaves_one_running_instance(scale: dict[str, Any]) -> None:
    assert len(scale["ids_down1"]) == 1


def test_amazon_linux_2023_is_looked_up_by_its_owner_and_name(ec2: Any, scale: dict[str, Any]) -> None:
    (image,) = ec2.describe_images(ImageIds=scale["images_up3"])["Images"]
    assert image["Name"].startswith("al2023-ami-2023")
    assert image["Name"].endswith("-kernel-6.1-x86_64")


def test_instances_added_later_get_the_host_key_of_the_running_ones(scale: dict[str, Any]) -> None:
    keys = {yaml.safe_load(text)["ssh_keys"]["ed25519_public"] for text in scale["user_data_up3"]}
    assert len(scale["user_data_up3"]) == 3
    assert len(keys) == 1


def test_the_group_holds_the_running_instance_after_the_first_run(scale: dict[str, Any]) -> None:
    assert group_members(scale["up1"]) == scale["ids_up1"]


def test_the_group_holds_exactly_the_running_instances_after_scaling_up(scale: dict[str, Any]) -> None:
    assert group_members(scale["up3"]) == scale["ids_up3"]


def test_the_group_holds_exactly_the_running_instances_after_scaling_down(scale: dict[str, Any]) -> None:
    assert group_members(scale["down1"]) == scale["ids_down1"]
