"""Start, stop and query the Heroku stand-in (see README.md beside this file).

    python -m tests.standins.heroku start --state-dir DIR --name NS [--port-base N]   # prints the API URL
    python -m tests.standins.heroku url --state-dir DIR
    python -m tests.standins.heroku stats --state-dir DIR
    python -m tests.standins.heroku stop --state-dir DIR      # also removes its dyno containers

The API key the stand-in accepts is HEROKU_API_KEY from the environment of ``start``.
Its port and process id are kept in ``<state-dir>/heroku.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from .platform import Platform
from .runtime import Runtime
from .server import StandinServer

HOST = "127.0.0.1"
STATE_FILE = "heroku.json"
LOG_FILE = "heroku.log"
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class Standin:
    port: int
    pid: int
    name: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def stats(url: str) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"{url}/_standin/stats", timeout=2) as response:
            found: dict[str, object] = json.load(response)
            return found
    except (urllib.error.URLError, OSError, ValueError):
        return None


def is_standin(pid: int) -> bool:
    try:
        return b"tests.standins.heroku" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def load(state_dir: Path) -> Standin | None:
    path = state_dir / STATE_FILE
    return Standin(**json.loads(path.read_text())) if path.exists() else None


def start(state_dir: Path, name: str, port_base: int) -> Standin:
    existing = load(state_dir)
    if existing is not None and is_standin(existing.pid) and stats(existing.url) is not None:
        return existing
    if not os.environ.get("HEROKU_API_KEY"):
        raise SystemExit("set HEROKU_API_KEY: the key the stand-in will accept")
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)
    port = free_port()
    argv = [sys.executable, "-m", "tests.standins.heroku", "serve", "--state-dir", str(state_dir), "--name", name,
            "--port", str(port), "--port-base", str(port_base)]  # fmt: skip
    with (state_dir / LOG_FILE).open("ab") as log:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=Path(__file__).resolve().parents[3],
        )  # fmt: skip
    standin = Standin(port=port, pid=process.pid, name=name)
    deadline = time.monotonic() + READY_TIMEOUT
    while stats(standin.url) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the Heroku stand-in did not come up on {standin.url}; see {state_dir / LOG_FILE}")
        time.sleep(0.1)
    (state_dir / STATE_FILE).write_text(json.dumps(asdict(standin)))
    return standin


def stop(state_dir: Path) -> bool:
    standin = load(state_dir)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    running = standin is not None and is_standin(standin.pid)
    if standin is not None and running:
        os.kill(standin.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while is_standin(standin.pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(standin.pid, os.WNOHANG)
            time.sleep(0.1)
        if is_standin(standin.pid):
            os.kill(standin.pid, signal.SIGKILL)
    if standin is not None:
        remove_containers(standin.name)
    return running


def remove_containers(name: str) -> None:
    found = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name=^sod-{name}-(dyno|build)-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    ids = found.stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "--force", *ids], capture_output=True, check=False)


def serve(state_dir: Path, name: str, port: int, port_base: int) -> None:
    runtime = Runtime(namespace=name, state_dir=state_dir, ca_bundle=CA_BUNDLE)
    platform = Platform(runtime, base_url=f"http://{HOST}:{port}", port_base=port_base)
    api_key = os.environ.pop("HEROKU_API_KEY", "")
    with (state_dir / "requests.log").open("a") as log_file:
        server = StandinServer((HOST, port), platform, api_key, log_file)

        def shut_down(*_: object) -> None:
            remove_containers(name)
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, shut_down)
        server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop", "url", "stats", "serve"])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--name", default="heroku", help="names its containers sod-<name>-*")
    parser.add_argument("--port-base", type=int, default=18700, help="the first app's loopback port")
    parser.add_argument("--port", type=int, default=0, help="(serve) the API's port")
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir.resolve()
    if args.action == "start":
        print(start(state_dir, args.name, args.port_base).url)
        return 0
    if args.action == "stop":
        print("stopped" if stop(state_dir) else "not running")
        return 0
    if args.action == "serve":
        serve(state_dir, args.name, args.port, args.port_base)
        return 0
    standin = load(state_dir)
    if standin is None:
        print(f"no Heroku stand-in recorded in {state_dir}", file=sys.stderr)
        return 1
    if args.action == "stats":
        print(json.dumps(stats(standin.url)))
        return 0
    print(standin.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
