"""Start, stop and reset a local moto server (the AWS stand-in) on 127.0.0.1.

The server listens on a free loopback port with moto's validation switched on, so
bogus instance types, AMIs and key pair names are rejected as AWS rejects them.
Its port and process id are kept in ``<state-dir>/moto.json`` so that a later,
separate process (a Molecule destroy playbook, a pytest session) can find it.

Its image catalogue is moto's own plus stand-ins for Debian's official images
(owner 136693071363, named as Debian publishes them), which moto does not ship:
the roles look Debian up by owner and name exactly as on AWS.

The server records every request (0600, in the state directory) from a fixed
random seed. When the recorded server has died, ``start`` replays the recording
into the new one, which then holds the same resources under the same ids and
addresses, and says so; a recorded server that is alive but does not answer is
an error, never a reason to start a second one. ``stop`` ends every server it
ever started for the state directory.

    python -m tests.support.moto start --state-dir DIR   # prints the endpoint URL
    python -m tests.support.moto url --state-dir DIR
    python -m tests.support.moto reset --state-dir DIR
    python -m tests.support.moto stop --state-dir DIR

From pytest: ``with running(tmp_path_factory.mktemp("moto")) as server: ...``
(``server.url`` is the endpoint; ``reset(server)`` wipes it between tests).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

HOST = "127.0.0.1"
STATE_FILE = "moto.json"
PIDS_FILE = "moto.pids"
LOG_FILE = "moto.log"
AMIS_FILE = "amis.json"
RECORDING_FILE = "recording.jsonl"
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
# A cheap request: a few hundred bytes whatever the server holds.
LIVENESS_PATH = "/moto-api/config"
LIVENESS_TIMEOUT = 5.0
REPLAY_TIMEOUT = 300.0
# Resource ids and addresses are drawn from this seed, so a replayed recording
# recreates the same ones.
SEED = 1729
VALIDATION_ENV = {
    "MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION": "true",
    "MOTO_ENABLE_AMI_VALIDATION": "true",
    "MOTO_ENABLE_KEYPAIR_VALIDATION": "true",
}
# The regions whose current images moto ships are loaded from this one's list.
CATALOGUE_REGION = "us-east-1"
DEBIAN_OWNER = "136693071363"
# Stand-ins for Debian's official images: two builds per release and
# architecture, so "the newest by name" is exercised. The ids are made up.
DEBIAN_BUILDS = {
    ("12", "amd64"): ["20250610-2139", "20251006-2257"],
    ("12", "arm64"): ["20250610-2139", "20251006-2257"],
    ("13", "amd64"): ["20250814-2204", "20251006-2257"],
    ("13", "arm64"): ["20250814-2204", "20251006-2257"],
}


@dataclass(frozen=True)
class MotoServer:
    """A running moto server: where it listens and which process it is."""

    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}{LIVENESS_PATH}", timeout=LIVENESS_TIMEOUT) as response:
            return bool(response.status in (200, 201))
    except (urllib.error.URLError, OSError):
        return False


def debian_images() -> list[dict[str, object]]:
    """Debian's official images as DescribeImages shows them (owner, name, architecture)."""
    images: list[dict[str, object]] = []
    for (release, arch), builds in sorted(DEBIAN_BUILDS.items()):
        for number, build in enumerate(builds):
            images.append(
                {
                    "ami_id": f"ami-0deb{release}{0 if arch == 'amd64' else 1}{number:010x}",
                    "name": f"debian-{release}-{arch}-{build}",
                    "description": f"Debian {release} ({build})",
                    "owner_id": DEBIAN_OWNER,
                    "architecture": "x86_64" if arch == "amd64" else "arm64",
                    "state": "available",
                    "public": True,
                    "image_type": "machine",
                    "platform": None,
                    "hypervisor": "xen",
                    "virtualization_type": "hvm",
                    "root_device_name": "/dev/xvda",
                    "root_device_type": "ebs",
                    "sriov": "simple",
                }
            )
    return images


def write_catalogue(state_dir: Path) -> Path:
    """moto's default images, its current ones for CATALOGUE_REGION, and Debian's."""
    from moto.utilities.utils import load_resource  # the server's own data files

    images = load_resource("ec2/resources/amis.json") + load_resource(
        f"ec2/resources/latest_amis/{CATALOGUE_REGION}.json"
    )
    path = state_dir / AMIS_FILE
    path.write_text(json.dumps(images + debian_images()))
    return path


def request(url: str, method: str = "POST", timeout: float = 5.0) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=timeout):
        return


def is_moto(pid: int) -> bool:
    """True when the process exists and is a moto server (guards against reused ids)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"moto" in cmdline


def load(state_dir: Path) -> MotoServer | None:
    path = state_dir / STATE_FILE
    if not path.exists():
        return None
    return MotoServer(**json.loads(path.read_text()))


def port_is_free(port: int) -> bool:
    """True when a server can listen on port (the server, like this probe, reuses TIME_WAIT addresses)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def start(state_dir: Path, *, record: bool = True) -> MotoServer:
    """Return the recorded server if it answers; else start one, restoring a dead one's recording.

    ``record=False`` (pytest sessions, the benchmarks: servers that live as long as
    their caller) skips the recording and its cost per request.
    """
    existing = load(state_dir)
    if existing is not None and is_moto(existing.pid):
        if is_ready(existing.url):
            return existing
        msg = f"moto server {existing.pid} on {existing.url} is running but does not answer; see {state_dir / LOG_FILE}"
        raise RuntimeError(msg)
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    recording = state_dir / RECORDING_FILE
    restore = existing is not None and recording.exists() and recording.stat().st_size > 0
    # The recording holds request bodies (user data with host keys): 0600 before moto appends to it.
    recording.touch(mode=0o600)
    recording.chmod(0o600)
    # The same port when it is free, so endpoint URLs written before stay right.
    port = existing.port if existing is not None and port_is_free(existing.port) else free_port()
    env = {
        **os.environ,
        **VALIDATION_ENV,
        "MOTO_AMIS_PATH": str(write_catalogue(state_dir)),
        **({"MOTO_ENABLE_RECORDING": "true", "MOTO_RECORDER_FILEPATH": str(recording)} if record else {}),
    }
    with (state_dir / LOG_FILE).open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with (state_dir / PIDS_FILE).open("a") as pids:
        pids.write(f"{process.pid}\n")
    server = MotoServer(port=port, pid=process.pid)
    deadline = time.monotonic() + READY_TIMEOUT
    while not is_ready(server.url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            msg = f"moto server did not come up on {server.url}; see {state_dir / LOG_FILE}"
            raise RuntimeError(msg)
        time.sleep(0.1)
    if restore:
        request(f"{server.url}/moto-api/recorder/replay-recording", timeout=REPLAY_TIMEOUT)
        print(f"moto: the previous server stopped; its recorded state was replayed into {server.url}", file=sys.stderr)
    else:
        request(f"{server.url}/moto-api/seed?a={SEED}")
    (state_dir / STATE_FILE).write_text(json.dumps(asdict(server)))
    return server


def started_pids(state_dir: Path) -> list[int]:
    """Every server process ever started for state_dir (the recorded one included)."""
    path = state_dir / PIDS_FILE
    pids = [int(line) for line in path.read_text().split()] if path.exists() else []
    server = load(state_dir)
    return sorted({*pids, *([server.pid] if server else [])})


def stop(state_dir: Path) -> bool:
    """Stop every server started for state_dir; True when one was running."""
    running = [pid for pid in started_pids(state_dir) if is_moto(pid)]
    for pid in running:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(is_moto(pid) for pid in running) and time.monotonic() < deadline:
        for pid in running:
            reap(pid)
        time.sleep(0.1)
    for pid in running:
        if is_moto(pid):
            os.kill(pid, signal.SIGKILL)
    for name in (STATE_FILE, PIDS_FILE, RECORDING_FILE):
        (state_dir / name).unlink(missing_ok=True)
    return bool(running)


def reap(pid: int) -> None:
    """Collect the exit status when the server is our own child (pytest starts it in-process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return


def reset(server: MotoServer) -> None:
    """Wipe every resource the server holds."""
    request(f"{server.url}/moto-api/reset")


@contextmanager
def running(state_dir: Path) -> Iterator[MotoServer]:
    """A server for the duration of a with-block, e.g. a session-scoped pytest fixture."""
    server = start(state_dir, record=False)
    try:
        yield server
    finally:
        stop(state_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop", "reset", "url"])
    parser.add_argument("--state-dir", type=Path, required=True, help="where moto.json and moto.log live")
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir
    if args.action == "start":
        print(start(state_dir).url)
        return 0
    if args.action == "stop":
        print("stopped" if stop(state_dir) else "not running")
        return 0
    server = load(state_dir)
    if server is None:
        print(f"no moto server recorded in {state_dir}", file=sys.stderr)
        return 1
    if args.action == "reset":
        reset(server)
    print(server.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
