"""The raw baseline: the manual recipe as one shell script through `docker exec`."""

from __future__ import annotations

import itertools
import re
import subprocess
import time
from pathlib import Path

from hosts import CA_BUNDLE, Host, docker

# The classic manual recipe, step for step: tmux and git, the installer (verified), pip install
# of streamlit and the app's requirements, the app, `streamlit run` in tmux, wait for health.
SCRIPT = r"""
set -euo pipefail
step() {{ printf 'STEP %s %s\n' "$(date +%s.%N)" "$1"; }}
export DEBIAN_FRONTEND=noninteractive PIP_CERT={ca} SSL_CERT_FILE={ca}
step 'apt-get install tmux git'
apt-get update -qq
apt-get install -y -qq tmux git >/dev/null
step 'download and run the installer'
curl -fsS -o /var/tmp/miniconda.sh '{url}'
echo '{sha256}  /var/tmp/miniconda.sh' | sha256sum -c --quiet
bash /var/tmp/miniconda.sh -b -p /opt/miniconda3 >/dev/null
step 'pip install streamlit and the requirements'
/opt/miniconda3/bin/pip install --quiet --no-input streamlit -r /opt/app/requirements.txt
step 'start in tmux, wait for health'
cd /opt/app
tmux new-session -d -s hello \
  '/opt/miniconda3/bin/streamlit run streamlit_app.py --server.port 8501 --server.headless true'
for _ in $(seq 1 900); do
  curl -fs http://127.0.0.1:8501/_stcore/health >/dev/null && step end && exit 0
  sleep 0.1
done
echo 'the app did not answer /_stcore/health' >&2
exit 1
"""


def run_baseline(host: Host, installer_url: str, checksum: str, app_dir: Path, log: Path) -> float:
    """Seconds from copying the app in to the health endpoint answering, on a fresh container."""
    script = SCRIPT.format(ca=CA_BUNDLE, url=installer_url, sha256=checksum.removeprefix("sha256:"))
    start = time.monotonic()
    docker("cp", f"{app_dir}/.", f"{host.container}:/opt/app")
    with log.open("w") as out:
        result = subprocess.run(
            ["docker", "exec", host.container, "bash", "-c", script], stdout=out, stderr=subprocess.STDOUT, check=False
        )
    seconds = time.monotonic() - start
    if result.returncode != 0:
        msg = f"the raw baseline failed (rc={result.returncode}); see {log}"
        raise RuntimeError(msg)
    return seconds


def steps(log: Path) -> list[tuple[str, float]]:
    """Seconds per step of the script, from the STEP lines it printed."""
    marks = [(float(at), name) for at, name in re.findall(r"^STEP (\S+) (.*)$", log.read_text(), re.MULTILINE)]
    return [(name, nxt - at) for (at, name), (nxt, _) in itertools.pairwise(marks)]
