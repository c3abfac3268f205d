"""HTTP front of the stand-in: Heroku's request rules, the contract checks, and the request counter.

API requests need ``Accept: application/vnd.heroku+json; version=3`` and ``Authorization:
Bearer <key>``; bodies and answers are checked against the schema (a request that breaks it
gets Heroku's 422 ``invalid_params``; an answer that breaks it is a stand-in bug, answered 500
and recorded). Besides the API it serves the source blobs (signed PUT/GET URLs with S3's rule
that a signed PUT carries no ``Content-Type``), the build output streams, and
``/_standin/stats`` (request counts and contract errors, for the tests) and ``/_standin/router``
(where the router serves each app on this machine).
"""

from __future__ import annotations

import hmac
import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .contract import Contract, ContractError, Link
from .platform import ApiError, Platform

ACCEPT = re.compile(r"application/vnd\.heroku\+json;\s*version=3\b")
APP = r"(?P<app>[^/]+)"
Answer = tuple[int, Any] | tuple[int, Any, dict[str, str]]


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.contract_errors: list[str] = []

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "api_requests": sum(self.requests.values()),
                "by_endpoint": dict(self.requests),
                "contract_errors": list(self.contract_errors),
            }


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], platform: Platform, api_key: str, log_file: Any) -> None:
        super().__init__(address, Handler)
        self.platform = platform
        self.api_key = api_key
        self.contract = Contract()
        self.stats = Stats()
        self.log_file = log_file


class Handler(BaseHTTPRequestHandler):
    server: StandinServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log_file.write(f"{self.address_string()} {format % args}\n")
        self.server.log_file.flush()

    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def do_PATCH(self) -> None:
        self.dispatch("PATCH")

    def do_PUT(self) -> None:
        self.dispatch("PUT")

    def do_DELETE(self) -> None:
        self.dispatch("DELETE")

    # ----- plumbing

    def body_bytes(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def send_json(self, status: int, answer: Any, headers: dict[str, str] | None = None) -> None:
        self.send(status, json.dumps(answer).encode(), "application/json", headers)

    def send_error_answer(self, error: ApiError) -> None:
        self.send_json(error.status, {"id": error.error_id, "message": error.message})

    def dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            if url.path.startswith("/_blobs/"):
                self.blob(method, url.path.removeprefix("/_blobs/"), parse_qs(url.query))
            elif url.path.startswith("/_streams/"):
                self.stream(url.path.removeprefix("/_streams/"))
            elif url.path == "/_standin/stats":
                self.send_json(200, self.server.stats.as_dict())
            elif url.path == "/_standin/router":
                with self.server.platform.lock:
                    apps = self.server.platform.apps.values()
                    self.send_json(200, {app.name: self.server.platform.router_url(app) for app in apps})
            else:
                self.api(method, url.path)
        except ApiError as error:
            self.send_error_answer(error)

    # ----- blobs and streams (not API: S3 and the build output service on Heroku)

    def blob(self, method: str, blob_id: str, query: dict[str, list[str]]) -> None:
        expires, signature = query.get("Expires", [""])[0], query.get("Signature", [""])[0]
        platform = self.server.platform
        with platform.lock:
            blob = platform.check_blob(blob_id, method, expires, signature)
        if method == "PUT":
            data = self.body_bytes()
            if self.headers.get("Content-Type", ""):
                # The signature covers an empty Content-Type, as Heroku's put_url does.
                raise ApiError(403, "SignatureDoesNotMatch", "a signed PUT must not carry a Content-Type")
            blob.data = data
            self.send(200, b"", "text/plain")
        elif method == "GET" and blob.data is not None:
            self.send(200, blob.data, "application/octet-stream")
        else:
            raise ApiError(404, "NoSuchKey", "The specified key does not exist.")

    def stream(self, rest: str) -> None:
        app_id, _, build_id = rest.partition("/")
        platform = self.server.platform
        with platform.lock:
            app = platform.app(app_id)
            build = app.builds.get(build_id)
            if build is None:
                raise ApiError(404, "not_found", "Couldn't find that build.")
            text = "\n".join(build.output) + "\n"
        self.send(200, text.encode(), "text/plain; charset=utf-8")

    # ----- the Platform API

    def api(self, method: str, path: str) -> None:
        server = self.server
        raw = self.body_bytes()
        with server.stats.lock:
            server.stats.requests[f"{method} {path}"] += 1
        if not ACCEPT.search(self.headers.get("Accept", "")):
            raise ApiError(
                400, "bad_request", "Please specify a version along with Heroku's API MIME type. "
                "For example, `Accept: application/vnd.heroku+json; version=3`."
            )  # fmt: skip
        auth = self.headers.get("Authorization", "")
        if not hmac.compare_digest(auth.encode(), f"Bearer {server.api_key}".encode()):
            raise ApiError(401, "unauthorized", "Invalid credentials provided.")
        try:
            link = server.contract.link(method, path)
            body = json.loads(raw) if raw else None
            server.contract.check_request(link, body)
        except (ContractError, json.JSONDecodeError) as error:
            raise ApiError(422, "invalid_params", str(error)) from error
        with server.platform.lock:
            answer = self.route(method, path, body or {})
        status, payload, headers = (*answer, {}) if len(answer) == 2 else answer
        self.check_answer(link, payload)
        self.send_json(status, payload, headers)

    def check_answer(self, link: Link, payload: Any) -> None:
        try:
            self.server.contract.check_answer(link, payload)
        except ContractError as error:
            with self.server.stats.lock:
                self.server.stats.contract_errors.append(str(error))
            raise ApiError(500, "standin_contract", str(error)) from error

    def route(self, method: str, path: str, body: dict[str, Any]) -> Answer:
        platform = self.server.platform
        if method == "POST" and path == "/apps":
            return platform.create_app(body)
        if method == "POST" and path == "/teams/apps":
            return platform.create_app({k: body[k] for k in ("name", "region", "stack") if k in body}, body.get("team"))
        if method == "POST" and path == "/sources":
            return platform.create_source()
        found = re.match(rf"^/apps/{APP}(?P<rest>/.*)?$", path)
        if not found:
            raise ApiError(404, "not_found", "The requested API endpoint was not found.")
        app = platform.app(found.group("app"))
        rest = found.group("rest") or ""
        if rest == "":
            if method == "GET":
                return 200, platform.render_app(app)
            if method == "DELETE":
                return platform.delete_app(app)
        if rest == "/acm" and method == "POST":
            return platform.enable_acm(app)
        if rest == "/config-vars":
            if method == "GET":
                return 200, dict(app.config)
            if method == "PATCH":
                return platform.update_config(app, body)
        if rest == "/releases" and method == "GET":
            return platform.list_releases(app, self.headers.get("Range", ""))
        if rest == "/builds" and method == "POST":
            return platform.create_build(app, body)
        if rest.startswith("/builds/") and method == "GET":
            build = app.builds.get(rest.removeprefix("/builds/"))
            if build is None:
                raise ApiError(404, "not_found", "Couldn't find that build.")
            return 200, platform.render_build(app, build)
        if rest.startswith("/slugs/") and method == "GET":
            slug = app.slugs.get(rest.removeprefix("/slugs/"))
            if slug is None:
                raise ApiError(404, "not_found", "Couldn't find that slug.")
            return 200, platform.render_slug(app, slug)
        if rest == "/formation":
            if method == "GET":
                return 200, [platform.render_formation(app, f) for f in app.formation.values()]
            if method == "PATCH":
                return platform.update_formation(app, body["updates"])
        if rest == "/domains":
            if method == "GET":
                return 200, [platform.render_domain(app, d) for d in app.domains]
            if method == "POST":
                return platform.create_domain(app, body)
        raise ApiError(404, "not_found", f"The stand-in does not implement {method} {path}.")
