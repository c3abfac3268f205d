"""Start, stop and reset a local moto server (the AWS stand-in) on 127.0.0.1.

The server listens on a free loopback port with moto's validation switched on, so
bogus instance types, AMIs and key pair names are rejected as AWS rejects them.
Its port and process id are kept in ``<state-dir>/moto.json`` so that a later,
separate process (a Molecule destroy playbook, a pytest session) can find it.

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
LOG_FILE = "moto.log"
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
VALIDATION_ENV = {
    "MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION": "true",
    "MOTO_ENABLE_AMI_VALIDATION": "true",
    "MOTO_ENABLE_KEYPAIR_VALIDATION": "true",
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
        with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


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


def start(state_dir: Path) -> MotoServer:
    """Start a server (or return the one already recorded in state_dir and still alive)."""
    existing = load(state_dir)
    if existing is not None and is_moto(existing.pid) and is_ready(existing.url):
        return existing
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with (state_dir / LOG_FILE).open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            env={**os.environ, **VALIDATION_ENV},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = MotoServer(port=port, pid=process.pid)
    deadline = time.monotonic() + READY_TIMEOUT
    while not is_ready(server.url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            msg = f"moto server did not come up on {server.url}; see {state_dir / LOG_FILE}"
            raise RuntimeError(msg)
        time.sleep(0.1)
    (state_dir / STATE_FILE).write_text(json.dumps(asdict(server)))
    return server


def stop(state_dir: Path) -> bool:
    """Stop the recorded server; True when one was running."""
    server = load(state_dir)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    if server is None or not is_moto(server.pid):
        return False
    os.kill(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while is_moto(server.pid) and time.monotonic() < deadline:
        reap(server.pid)
        time.sleep(0.1)
    if is_moto(server.pid):
        os.kill(server.pid, signal.SIGKILL)
    return True


def reap(pid: int) -> None:
    """Collect the exit status when the server is our own child (pytest starts it in-process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return


def reset(server: MotoServer) -> None:
    """Wipe every resource the server holds."""
    request = urllib.request.Request(f"{server.url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=5):
        return


@contextmanager
def running(state_dir: Path) -> Iterator[MotoServer]:
    """A server for the duration of a with-block, e.g. a session-scoped pytest fixture."""
    server = start(state_dir)
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
