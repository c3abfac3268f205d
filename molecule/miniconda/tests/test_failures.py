"""Runs that must fail cleanly, and an interrupted install that the next run repairs."""

from __future__ import annotations

import pytest
import testinfra
from conftest import (
    BAD_INPUTS,
    INTERRUPTED,
    STANDIN,
    TARGETS,
    WRONG_SUM,
    WRONG_SUM_INSTALLER,
    Batch,
    bad_input_case,
    bad_input_prefix,
)

testinfra_hosts = TARGETS


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_fails_before_any_change_naming_the_variable(
    host: testinfra.host.Host, hostname: str, batch: Batch, name: str
) -> None:
    message = BAD_INPUTS[name][1]
    case = bad_input_case(name)
    assert batch.failed(hostname, case)
    assert message in " ".join(batch.failure_message(hostname, case).split())
    assert batch.stats(hostname, case)["changed"] == 0
    assert not host.file(bad_input_prefix(name)).exists


def test_a_wrong_checksum_fails_showing_both_sums_and_leaves_nothing(
    host: testinfra.host.Host, hostname: str, batch: Batch
) -> None:
    served_sum = STANDIN.with_name(STANDIN.name + ".sha256").read_text().split()[0]
    assert batch.failed(hostname, "wrong-checksum")
    assert f"did not match {WRONG_SUM}; it was sha256:{served_sum}" in " ".join(
        batch.failure_message(hostname, "wrong-checksum").split()
    )
    assert not host.file("/opt/case-wrong-checksum").exists
    assert not host.file(WRONG_SUM_INSTALLER).exists


def test_a_killed_install_leaves_a_prefix_without_the_finished_marker(hostname: str, batch: Batch) -> None:
    assert batch.half_done[hostname]


def test_an_interrupted_install_is_repaired_by_the_next_run(
    host: testinfra.host.Host, hostname: str, batch: Batch
) -> None:
    assert not batch.failed(hostname, "interrupted"), batch.failure_message(hostname, "interrupted")
    assert host.file(f"{INTERRUPTED}/conda-meta/history").is_file
    assert host.check_output(f"{INTERRUPTED}/bin/conda --version") == "conda 25.7.0"
    assert host.run(f"{INTERRUPTED}/bin/python -c 'import ssl, sqlite3'").rc == 0
