"""configure.yml stops when its host pattern matches no host, instead of succeeding having done nothing.

The usual way to get there: the dynamic inventory looked in another region than
the deployment's, or the group name has a typo.
"""

from __future__ import annotations

import subprocess

from .conftest import REPO, clean_env, tool


def test_a_pattern_matching_no_host_fails_naming_streamlit_ops_hosts() -> None:
    result = subprocess.run(
        [
            tool("ansible-playbook"), "-i", "localhost,", "playbooks/configure.yml",
            "-e", "streamlit_ops_hosts=deployment_sales_dashboard",
        ],
        capture_output=True,
        text=True,
        env=clean_env(ANSIBLE_CONFIG=str(REPO / "ansible.cfg")),
        cwd=REPO,
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "streamlit_ops_hosts 'deployment_sales_dashboard' matches no host" in " ".join(result.stdout.split())
