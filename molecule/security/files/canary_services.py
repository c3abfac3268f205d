"""The security scenario's services, each demanding its secret (run in the sod-security-services container).

    canary_services.py CONFIG.json

- HTTPS on 8443 with Basic authentication: /git/ (a repository served over git's dumb HTTP
  protocol) needs the git URL's credentials, /simple/ and /packages/ (a PEP 503 package
  index of wheels) need the index URL's token.
- HTTP on 3128: a forward proxy (CONNECT and absolute-URI GET) that needs the proxy password.
- HTTP on 8000: the Miniconda stand-in installer, no authentication (its sha256 proves it).

Every request that brought the right secret is counted in STATUS (a JSON file), so the tests
can tell that the deploy really used each secret, not merely that it did not leak it.
Standard library only: the container has nothing but Debian's python3.
"""

from __future__ import annotations

import base64
import http.server
import json
import select
import socket
import socketserver
import ssl
import sys
import threading
import urllib.parse
from pathlib import Path
from typing import Any

CONFIG: dict[str, Any] = {}
COUNTS: dict[str, int] = {"git": 0, "index": 0, "proxy": 0, "refused": 0}
LOCK = threading.Lock()


def count(name: str) -> None:
    with LOCK:
        COUNTS[name] += 1
        Path(CONFIG["status"]).write_text(json.dumps(COUNTS))


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Threading(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Files(http.server.SimpleHTTPRequestHandler):
    """Static files under CONFIG['www'], each prefix behind its own Basic credentials."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=CONFIG["www"], **kwargs)

    def realm(self) -> tuple[str, str] | None:
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/git/"):
            return "git", basic(CONFIG["git_user"], CONFIG["git_token"])
        if path.startswith(("/simple/", "/packages/")):
            return "index", basic("__token__", CONFIG["index_token"])
        return None

    def authorised(self) -> bool:
        realm = self.realm()
        if realm is None:
            return True
        if self.headers.get("Authorization") == realm[1]:
            count(realm[0])
            return True
        count("refused")
        self.send_response(401)
        self.send_header("WWW-Authenticate", f'Basic realm="{realm[0]}"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_GET(self) -> None:
        if self.authorised():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self.authorised():
            super().do_HEAD()


class Proxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy that needs the proxy password (Proxy-Authorization: Basic)."""

    def authorised(self) -> bool:
        if self.headers.get("Proxy-Authorization") == basic(CONFIG["proxy_user"], CONFIG["proxy_password"]):
            count("proxy")
            return True
        count("refused")
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="proxy"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_CONNECT(self) -> None:
        if not self.authorised():
            return
        host, _, port = self.path.rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=30)
        self.send_response(200, "Connection established")
        self.end_headers()
        relay(self.connection, upstream)

    def do_GET(self) -> None:
        if not self.authorised():
            return
        target = urllib.parse.urlsplit(self.path)
        upstream = socket.create_connection((target.hostname, target.port or 80), timeout=30)
        path = target.path + (f"?{target.query}" if target.query else "")
        upstream.sendall(f"GET {path} HTTP/1.0\r\nHost: {target.netloc}\r\nConnection: close\r\n\r\n".encode())
        with upstream:
            while chunk := upstream.recv(65536):
                self.wfile.write(chunk)
        self.close_connection = True


def relay(client: socket.socket, upstream: socket.socket) -> None:
    sockets = [client, upstream]
    with upstream:
        while True:
            readable, _, _ = select.select(sockets, [], [], 60)
            if not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)


def serve(server: http.server.HTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def main() -> int:
    CONFIG.update(json.loads(Path(sys.argv[1]).read_text()))
    Path(CONFIG["status"]).write_text(json.dumps(COUNTS))
    https = Threading(("0.0.0.0", 8443), Files)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CONFIG["cert"], CONFIG["key"])
    https.socket = context.wrap_socket(https.socket, server_side=True)
    installer = Threading(("0.0.0.0", 8000), Files)
    proxy = Threading(("0.0.0.0", 3128), Proxy)
    threads = [serve(https), serve(installer), serve(proxy)]
    for thread in threads:
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
