"""configure.yml stops when its host pattern matches no host, instead of succeeding having done nothing.

The usual way to get there: the dynamic inventory looked in another region than
the deployment's, or the group name has a typo.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .support.playbook import REPO, run_playbook


def test_a_pattern_matching_no_host_fails_naming_streamlit_ops_hosts() -> None:
    result = run_playbook(
        "playbooks/configure.yml",
        inventory="localhost,",
        extra_vars={"streamlit_ops_hosts": "deployment_sales_dashboard"},
        isolated=True,
    )
    assert result.rc != 0
    assert "streamlit_ops_hosts 'deployment_sales_dashboard' matches no host" in " ".join(result.stdout.split())


def test_validate_placeholder_is_never_configured(tmp_path: Path) -> None:
    """site.yml's input check adds a placeholder host to streamlit_servers that outlives it.

    With no instance in the group, configure.yml must refuse, not configure the
    placeholder (a local connection: the controller itself).
    """
    settings = {"endpoint": "http://127.0.0.1:9", "region": "us-east-1", "name": "placeholder"}
    (tmp_path / "settings.json").write_text(json.dumps({**settings, "https_port": 1, "http_port": 2}))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id_ed25519")], check=True)
    playbook = tmp_path / "check_then_configure.yml"
    playbook.write_text(
        f"- ansible.builtin.import_playbook: {REPO}/playbooks/validate.yml\n"
        f"- ansible.builtin.import_playbook: {REPO}/playbooks/configure.yml\n"
    )
    result = run_playbook(
        playbook,
        inventory="demo/inventory",
        env={"SOD_DEMO_NAME": "placeholder", "SOD_DEMO_STATE_DIR": str(tmp_path)},
        isolated=True,
    )
    output = " ".join(result.stdout.split())
    assert "PLAY [Check the configuring inputs as an instance will see them]" in output, output[-3000:]
    assert result.rc != 0
    assert "streamlit_ops_hosts 'streamlit_servers' matches no host" in output
    assert "PLAY [Configure the Streamlit servers]" not in output
