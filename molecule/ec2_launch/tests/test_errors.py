"""Bad input and broken environments fail fast, quote AWS and name the variable to fix."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest
from conftest import PROJECT, Run, tagged

# case: (text the message must contain, ...)
EXPECTED = {
    "hung": ("ec2_launch_endpoint_url", "Read timeout on endpoint URL"),
    "credentials": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "Unable to locate credentials"),
    "region": ("ec2_launch_region 'xx-nowhere-9'",),
    "instance_type": ("ec2_launch_instance_type", "InvalidInstanceType.NotFound", "'t9.micro' does not exist"),
    "image": ("ec2_launch_image_id 'ami-12345678'", "DescribeImages returned none"),
    "subnet": ("ec2_launch_subnet_id 'subnet-12345678'", "DescribeSubnets returned none"),
    "key_in_repo": ("ec2_launch_private_key_file", "ec2_launch_allow_key_in_repo"),
    "teardown_unnamed": ("ec2_launch_name",),
    "slow_launch": ("AWS did not answer the launch request in time", "ec2_launch_aws_read_timeout=3s", "Read timeout"),
}
# A hung endpoint must fail within about 30 s (the bound); the other
# cases get an answer from AWS and only need to be far from botocore's default
# minutes-long hang, with room for the suite's concurrent runs on 2 cores.
BOUND_SECONDS = {"hung": 30}
DEFAULT_BOUND_SECONDS = 60


@pytest.fixture(scope="module")
def outcome(sequences: dict[str, Future[Any]]) -> dict[str, Run]:
    return {case: sequences[case].result() for case in EXPECTED}


@pytest.mark.parametrize("case", EXPECTED)
def test_the_run_fails(outcome: dict[str, Run], case: str) -> None:
    assert outcome[case].rc != 0


@pytest.mark.parametrize("case", EXPECTED)
def test_the_message_names_the_variable_and_quotes_aws(outcome: dict[str, Run], case: str) -> None:
    missing = [text for text in EXPECTED[case] if text not in " ".join(outcome[case].output.split())]
    assert missing == [], outcome[case].output[-3000:]


@pytest.mark.parametrize("case", EXPECTED)
def test_the_failure_comes_within_its_time_bound(outcome: dict[str, Run], case: str) -> None:
    assert outcome[case].seconds < BOUND_SECONDS.get(case, DEFAULT_BOUND_SECONDS)


@pytest.mark.parametrize(
    ("case", "deployment"), [("image", "bad-ami"), ("subnet", "bad-subnet"), ("region", "bad-region")]
)
def test_a_rejected_input_creates_nothing(ec2: Any, outcome: dict[str, Run], case: str, deployment: str) -> None:
    assert outcome[case].rc != 0
    assert tagged(ec2, deployment, "describe_security_groups", "SecurityGroups") == []


def test_a_launch_that_times_out_is_not_reported_as_a_refusal(outcome: dict[str, Run]) -> None:
    assert outcome["slow_launch"].rc != 0
    assert "AWS refused to launch" not in outcome["slow_launch"].output
    assert "check the instance type" not in outcome["slow_launch"].output.lower()


def test_survey_strings_and_string_numbers_deploy(ec2: Any, sequences: dict[str, Future[Any]]) -> None:
    result = sequences["survey"].result()
    assert result["provision"].rc == 0, result["provision"].output[-3000:]
    assert len(result["launched"]) == 2
    (group,) = result["groups"]
    rules = sorted(
        (
            rule["FromPort"],
            sorted(r["CidrIp"] for r in rule.get("IpRanges", [])),
            [r["CidrIpv6"] for r in rule.get("Ipv6Ranges", [])],
        )
        for rule in group["IpPermissions"]
    )
    assert rules == [(22, ["198.51.100.0/24", "203.0.113.7/32"], ["2001:db8::/32"]), (8502, ["192.0.2.0/24"], [])]
    tags = {tag["Key"]: tag["Value"] for tag in result["launched"][0]["Tags"]}
    assert (tags["team"], tags["cost-center"]) == ("survey", "7")
    assert result["teardown"].rc == 0, result["teardown"].output[-3000:]


def test_a_private_key_path_inside_the_repository_is_not_written(outcome: dict[str, Run]) -> None:
    assert outcome["key_in_repo"].rc != 0
    assert not (PROJECT / "molecule" / "ec2_launch" / "leaked.pem").exists()


def test_check_mode_on_a_new_deployment_reports_what_it_would_create(sequences: dict[str, Future[Any]]) -> None:
    result = sequences["check_mode"].result()["run"]
    assert result.rc == 0, result.output[-3000:]
    said = " ".join(result.output.split())
    assert "Would create security group molecule-dry-streamlit" in said
    assert "each with an Elastic IP, and records for dry.molecule.test in molecule.test" in said


def test_check_mode_on_a_new_deployment_creates_nothing(ec2: Any, sequences: dict[str, Future[Any]]) -> None:
    result = sequences["check_mode"].result()
    assert result["run"].rc == 0
    assert tagged(ec2, "molecule-dry", "describe_security_groups", "SecurityGroups") == []
    assert tagged(ec2, "molecule-dry", "describe_key_pairs", "KeyPairs") == []
    assert (result["eips"], result["record"], result["marker"]) == ([], {}, {})
