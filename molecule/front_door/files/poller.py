"""Poll apps through their front doors over HTTPS until told to stop, with a websocket open meanwhile.

Run by side_effect.yml around a certificate renewal: every request is a new TCP and TLS connection
(so it sees the certificate nginx serves at that moment), verified against the test bed's CA. Each
target also keeps one websocket to Streamlit open from the start, and pings it at the end: a reload
that dropped open connections would leave it unanswered.

Usage: poller.py CONFIG, a JSON file: {"cafile", "stop" (a path: stop when it exists), "out"
(where the JSON result goes), "interval" (seconds between rounds), "targets": [{"address", "name",
"path", "websocket", "authorization"}]}.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import ssl
import sys
import time
from pathlib import Path
from typing import Any

TIMEOUT = 5.0


def connect(target: dict[str, Any], context: ssl.SSLContext) -> ssl.SSLSocket:
    raw = socket.create_connection((target["address"], 443), timeout=TIMEOUT)
    return context.wrap_socket(raw, server_hostname=target["name"])


def request_head(target: dict[str, Any], path: str, extra: dict[str, str]) -> bytes:
    headers = {"Host": target["name"], "User-Agent": "front-door-poller", **extra}
    if target.get("authorization"):
        headers["Authorization"] = target["authorization"]
    lines = [f"GET {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


def read_status(sock: ssl.SSLSocket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    status_line = data.split(b"\r\n", 1)[0].split()
    return (int(status_line[1]) if len(status_line) > 1 else 0), data


def poll_once(target: dict[str, Any], context: ssl.SSLContext) -> tuple[str | None, str]:
    """(None or why it failed, the SHA-256 of the certificate served)."""
    try:
        with connect(target, context) as sock:
            served = hashlib.sha256(sock.getpeercert(binary_form=True) or b"").hexdigest()
            sock.sendall(request_head(target, target["path"], {"Connection": "close"}))
            status, data = read_status(sock)
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except (OSError, ssl.SSLError) as exc:
        return f"{target['name']}: {exc}", ""
    if status != 200 or not data.endswith(b"ok"):
        return f"{target['name']}: HTTP {status}", served
    return None, served


def open_websocket(target: dict[str, Any], context: ssl.SSLContext) -> ssl.SSLSocket:
    sock = connect(target, context)
    key = base64.b64encode(os.urandom(16)).decode()
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
    sock.sendall(request_head(target, target["websocket"], upgrade))
    status, _ = read_status(sock)
    if status != 101:
        sock.close()
        raise OSError(f"websocket upgrade answered {status}")
    return sock


def ping_answered(sock: ssl.SSLSocket) -> bool:
    """Send a masked ping and wait for its pong (a client's frames are masked, RFC 6455)."""
    payload, mask = b"front-door", os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    try:
        sock.sendall(bytes([0x89, 0x80 | len(payload)]) + mask + masked)
        deadline = time.monotonic() + TIMEOUT
        buffer = b""
        while time.monotonic() < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                return False
            buffer += chunk
            while len(buffer) >= 2:
                opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
                header = 2 + (2 if length == 126 else 8 if length == 127 else 0)
                if length >= 126:
                    length = int.from_bytes(buffer[2:header], "big")
                if len(buffer) < header + length:
                    break
                if opcode == 0xA and buffer[header : header + length] == payload:
                    return True
                buffer = buffer[header + length :]
    except (OSError, ssl.SSLError):
        return False
    return False


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    context = ssl.create_default_context(cafile=config["cafile"])
    targets = config["targets"]
    sockets = {}
    for target in targets:
        try:
            sockets[target["name"]] = open_websocket(target, context)
        except (OSError, ssl.SSLError) as exc:
            print(f"websocket to {target['name']}: {exc}", file=sys.stderr)
    requests, failures = 0, []
    certificates: dict[str, list[str]] = {target["name"]: [] for target in targets}
    stop = Path(config["stop"])
    while not stop.exists():
        for target in targets:
            failure, served = poll_once(target, context)
            requests += 1
            if failure:
                failures.append(failure)
            seen = certificates[target["name"]]
            if served and (not seen or seen[-1] != served):
                seen.append(served)
        time.sleep(config["interval"])
    result = {
        "requests": requests,
        "failed": len(failures),
        "failures": failures[:20],
        "certificates": certificates,
        "websockets": {name: ping_answered(sock) for name, sock in sockets.items()},
    }
    Path(config["out"]).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
