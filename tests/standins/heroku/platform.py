"""The stand-in's Platform API: apps, config vars, sources, builds, slugs, releases, formation, domains, ACM.

Only the endpoints the heroku_app role uses, each with Heroku's behaviour where the role
depends on it: a config var change or a successful build makes a release (and restarts the
web dyno), a failed build makes none, formation changes make none, an app's first release
with a ``web`` process type scales ``web`` to one Basic dyno, app names are unique, Eco and
Basic dynos scale to one per process type. Shapes are checked against the published schema
by the server (contract.py).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .runtime import Runtime

USER = {"id": "8d4f2c2e-5a48-4d2a-9c9e-0d6f5f3a2b10", "email": "standin@example.com"}
REGIONS = {"us": "59accabd-516d-4f0e-83e6-6e3757701145", "eu": "ed30241c-ed8c-4bb6-9714-61953675d0b4"}
STACKS = {"heroku-22": "ee582d3c-717d-4a57-ba5f-8b3a39f3a817", "heroku-24": "9fc3f3a0-5ad7-43c9-a4a3-7b2e4e5a5c4b"}
# Common Runtime sizes (Private Space sizes need a space, which the stand-in has none of).
DYNO_SIZES = ["Eco", "Basic", "Standard-1X", "Standard-2X", "Performance-M", "Performance-L",
              "Performance-L-RAM", "Performance-XL", "Performance-2XL"]  # fmt: skip
SINGLE_DYNO_SIZES = {"Eco", "Basic"}
BLOB_TTL = 3600


class ApiError(Exception):
    """An error answer, shaped as Heroku's: {"id": ..., "message": ...}."""

    def __init__(self, status: int, error_id: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Slug:
    id: str
    commit: str | None
    process_types: dict[str, str]
    size: int
    path: Path
    created_at: str = field(default_factory=now)


@dataclass
class Release:
    id: str
    version: int
    description: str
    slug_id: str | None
    config: dict[str, str]
    status: str = "succeeded"
    created_at: str = field(default_factory=now)


@dataclass
class Build:
    id: str
    source_blob: dict[str, Any]
    status: str = "pending"
    slug_id: str | None = None
    release_id: str | None = None
    output: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)


@dataclass
class Formation:
    id: str
    type: str
    command: str
    quantity: int = 0
    size: str = "Basic"
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)


@dataclass
class Domain:
    id: str
    hostname: str
    cname: str
    acm_status: str | None
    created_at: str = field(default_factory=now)


@dataclass
class App:
    id: str
    name: str
    region: str
    stack: str
    team: str | None
    port: int
    acm: bool = False
    config: dict[str, str] = field(default_factory=dict)
    releases: list[Release] = field(default_factory=list)
    builds: dict[str, Build] = field(default_factory=dict)
    slugs: dict[str, Slug] = field(default_factory=dict)
    formation: dict[str, Formation] = field(default_factory=dict)
    domains: list[Domain] = field(default_factory=list)
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)

    @property
    def current(self) -> Release | None:
        done = [r for r in self.releases if r.status == "succeeded"]
        return done[-1] if done else None


@dataclass
class Blob:
    data: bytes | None = None
    created: float = field(default_factory=time.time)


class Platform:
    """All state, behind one lock; builds run in their own threads."""

    def __init__(self, runtime: Runtime, base_url: str, port_base: int) -> None:
        self.runtime = runtime
        self.base_url = base_url
        self.port_base = port_base
        self.apps: dict[str, App] = {}
        self.blobs: dict[str, Blob] = {}
        self.blob_key = secrets.token_bytes(32)
        self.lock = threading.RLock()
        self.workers: list[threading.Thread] = []

    # ----- helpers

    def app(self, identity: str) -> App:
        for app in self.apps.values():
            if identity in (app.name, app.id):
                return app
        raise ApiError(404, "not_found", "Couldn't find that app.")

    def free_port(self) -> int:
        """The first port from port_base that no app of the stand-in and nothing on this machine uses."""
        used = {app.port for app in self.apps.values()}
        port = self.port_base
        while port in used or not bindable(port):
            port += 1
        return port

    @staticmethod
    def web_url(app: App) -> str:
        """Heroku's address for the app (answered by the API; the stand-in cannot serve that name)."""
        return f"https://{app.name}-{app.id.replace('-', '')[:12]}.herokuapp.com/"

    @staticmethod
    def router_url(app: App) -> str:
        """Where the stand-in's router serves the app's web dyno on this machine."""
        return f"http://127.0.0.1:{app.port}/"

    def sign(self, blob_id: str, method: str, expires: int) -> str:
        message = f"{method}\n{blob_id}\n{expires}".encode()
        return hmac.new(self.blob_key, message, hashlib.sha256).hexdigest()

    def blob_url(self, blob_id: str, method: str) -> str:
        expires = int(time.time()) + BLOB_TTL
        return f"{self.base_url}/_blobs/{blob_id}?Expires={expires}&Signature={self.sign(blob_id, method, expires)}"

    def check_blob(self, blob_id: str, method: str, expires: str, signature: str) -> Blob:
        if blob_id not in self.blobs or not expires.isdigit():
            raise ApiError(404, "NoSuchKey", "The specified key does not exist.")
        if int(expires) < time.time() or not hmac.compare_digest(signature, self.sign(blob_id, method, int(expires))):
            raise ApiError(403, "SignatureDoesNotMatch", "The request signature does not match (or has expired).")
        return self.blobs[blob_id]

    # ----- renderings (every property of the schema's definitions)

    def render_app(self, app: App) -> dict[str, Any]:
        current = app.current
        slug = app.slugs.get(current.slug_id) if current and current.slug_id else None
        return {
            "acm": app.acm, "archived_at": None, "base_image_name": None,
            "build_stack": {"id": STACKS[app.stack], "name": app.stack},
            "buildpack_provided_description": "Python" if slug else None,
            "buildpacks": [{"url": "heroku/python", "name": "heroku/python"}],
            "created_at": app.created_at, "current_build_architecture": [], "generation": "cedar",
            "git_url": f"https://git.heroku.com/{app.name}.git", "id": app.id, "internal_routing": None,
            "maintenance": False, "name": app.name, "owner": USER,
            "organization": {"id": new_id(), "name": app.team} if app.team else None,
            "team": {"id": new_id(), "name": app.team} if app.team else None,
            "region": {"id": REGIONS[app.region], "name": app.region},
            "released_at": current.created_at if current else None, "repo_size": None,
            "slug_size": slug.size if slug else None, "space": None,
            "stack": {"id": STACKS[app.stack], "name": app.stack}, "updated_at": app.updated_at,
            "web_url": self.web_url(app),
        }  # fmt: skip

    def render_release(self, app: App, release: Release) -> dict[str, Any]:
        current = app.current
        return {
            "addon_plan_names": [], "artifacts": [], "app": {"name": app.name, "id": app.id},
            "created_at": release.created_at, "description": release.description, "id": release.id,
            "updated_at": release.created_at, "oci_image": None,
            "slug": {"id": release.slug_id} if release.slug_id else None, "status": release.status,
            "user": USER, "version": release.version, "current": current is not None and current.id == release.id,
            "output_stream_url": None, "eligible_for_rollback": release.slug_id is not None,
        }  # fmt: skip

    def render_build(self, app: App, build: Build) -> dict[str, Any]:
        return {
            "app": {"id": app.id}, "buildpacks": [{"url": "heroku/python", "name": "heroku/python"}],
            "created_at": build.created_at, "id": build.id, "labs": {},
            "output_stream_url": f"{self.base_url}/_streams/{app.id}/{build.id}",
            "source_blob": {"checksum": build.source_blob.get("checksum"), "url": build.source_blob["url"],
                            "version": build.source_blob.get("version"),
                            "version_description": build.source_blob.get("version_description")},
            "release": {"id": build.release_id} if build.release_id else None,
            "slug": {"id": build.slug_id} if build.slug_id else None, "stack": app.stack,
            "status": build.status, "updated_at": build.updated_at, "user": USER,
        }  # fmt: skip

    def render_slug(self, app: App, slug: Slug) -> dict[str, Any]:
        return {
            "blob": {"method": "GET", "url": f"{self.base_url}/_slugs/{slug.id}"},
            "buildpack_provided_description": "Python", "checksum": None, "commit": slug.commit,
            "commit_description": None, "created_at": slug.created_at, "id": slug.id,
            "process_types": slug.process_types, "size": slug.size,
            "stack": {"id": STACKS[app.stack], "name": app.stack}, "updated_at": slug.created_at, "deleted_at": None,
        }  # fmt: skip

    def render_formation(self, app: App, formation: Formation) -> dict[str, Any]:
        return {
            "app": {"name": app.name, "id": app.id}, "command": formation.command,
            "created_at": formation.created_at,
            "dyno_size": {"id": new_size_id(formation.size), "name": formation.size},
            "id": formation.id, "quantity": formation.quantity, "size": formation.size, "type": formation.type,
            "updated_at": formation.updated_at,
        }  # fmt: skip

    def render_domain(self, app: App, domain: Domain) -> dict[str, Any]:
        return {
            "acm_status": domain.acm_status, "acm_status_reason": None, "app": {"name": app.name, "id": app.id},
            "cname": domain.cname, "created_at": domain.created_at, "hostname": domain.hostname, "id": domain.id,
            "kind": "custom", "updated_at": domain.created_at, "status": "pending", "sni_endpoint": None,
        }  # fmt: skip

    # ----- apps

    def create_app(self, body: dict[str, Any], team: str | None = None) -> tuple[int, Any]:
        name = body.get("name") or f"standin-{secrets.token_hex(4)}"
        region = body.get("region", "us")
        stack = body.get("stack", "heroku-24")
        if region not in REGIONS:
            raise ApiError(422, "invalid_params", f"Couldn't find that region: {region}.")
        if stack not in STACKS:
            raise ApiError(422, "invalid_params", f"Couldn't find that stack: {stack}.")
        if any(app.name == name for app in self.apps.values()):
            raise ApiError(422, "invalid_params", "Name is already taken")
        app = App(id=new_id(), name=name, region=region, stack=stack, team=team, port=self.free_port())
        app.releases.append(Release(id=new_id(), version=1, description="Initial release", slug_id=None, config={}))
        self.apps[app.id] = app
        return 201, self.render_app(app)

    def delete_app(self, app: App) -> tuple[int, Any]:
        rendered = self.render_app(app)
        self.runtime.stop_dyno(app.name)
        for build_id in app.builds:
            shutil.rmtree(self.runtime.state_dir / "slugs" / build_id, ignore_errors=True)
        del self.apps[app.id]
        return 200, rendered

    def enable_acm(self, app: App) -> tuple[int, Any]:
        app.acm = True
        for domain in app.domains:
            domain.acm_status = domain.acm_status or "pending"
        return 200, self.render_app(app)

    # ----- config vars and releases

    def update_config(self, app: App, changes: dict[str, str | None]) -> tuple[int, Any]:
        config = dict(app.config)
        for key, value in changes.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        if config != app.config:
            added = sorted(k for k, v in changes.items() if v is not None and app.config.get(k) != v)
            removed = sorted(k for k, v in changes.items() if v is None and k in app.config)
            parts = ([f"Set {', '.join(added)} config vars"] if added else []) + (
                [f"Remove {', '.join(removed)} config vars"] if removed else []
            )
            app.config = config
            current = app.current
            self.release(app, " and ".join(parts), current.slug_id if current else None)
        return 200, dict(app.config)

    def release(self, app: App, description: str, slug_id: str | None) -> Release:
        release = Release(
            id=new_id(), version=app.releases[-1].version + 1, description=description, slug_id=slug_id,
            config=dict(app.config),
        )  # fmt: skip
        app.releases.append(release)
        app.updated_at = release.created_at
        if slug_id is not None:
            slug = app.slugs[slug_id]
            for kind, command in slug.process_types.items():
                formation = app.formation.setdefault(kind, Formation(id=new_id(), type=kind, command=command,
                                                                     quantity=1 if kind == "web" else 0))  # fmt: skip
                formation.command = command
            self.restart(app)
        return release

    def restart(self, app: App) -> None:
        """Run the web dyno of the current release (Heroku restarts dynos on every release)."""
        current = app.current
        web = app.formation.get("web")
        if current is None or current.slug_id is None or web is None or web.quantity == 0:
            self.runtime.stop_dyno(app.name)
            return
        slug = app.slugs[current.slug_id]
        try:
            self.runtime.start_dyno(app.name, slug.path, web.command, current.config, app.port)
        except subprocess.CalledProcessError as error:
            # As on Heroku, a dyno that cannot start does not undo the release: the router has nothing to serve.
            print(f"web dyno of {app.name} did not start: {error.stderr!r}", file=sys.stderr, flush=True)

    def list_releases(self, app: App, range_header: str) -> tuple[int, Any, dict[str, str]]:
        releases = list(app.releases)
        found = re.match(r"^\s*(\w+)\s*\.\.\s*(?:;\s*(.*))?$", range_header or "version ..")
        options = dict(re.findall(r"(\w+)=(\w+)", found.group(2) or "")) if found else {}
        if options.get("order") == "desc":
            releases.reverse()
        limit = int(options.get("max", "200"))
        answer = [self.render_release(app, r) for r in releases[:limit]]
        if len(releases) > limit:
            return 206, answer, {"Next-Range": f"version ]{releases[limit - 1].version}..; max={limit}"}
        return 200, answer, {}

    # ----- sources and builds

    def create_source(self) -> tuple[int, Any]:
        blob_id = secrets.token_hex(16)
        self.blobs[blob_id] = Blob()
        return 201, {"source_blob": {"get_url": self.blob_url(blob_id, "GET"),
                                     "put_url": self.blob_url(blob_id, "PUT")}}  # fmt: skip

    def create_build(self, app: App, body: dict[str, Any]) -> tuple[int, Any]:
        build = Build(id=new_id(), source_blob=dict(body["source_blob"]))
        app.builds[build.id] = build
        worker = threading.Thread(target=self.run_build, args=(app, build), daemon=True)
        self.workers.append(worker)
        worker.start()
        return 201, self.render_build(app, build)

    def source_bytes(self, url: str) -> bytes:
        found = re.match(r"^.*/_blobs/(\w+)\?Expires=(\d+)&Signature=(\w+)$", url)
        if not found:
            raise ApiError(422, "invalid_params", "the stand-in builds only sources uploaded through POST /sources")
        blob = self.check_blob(found.group(1), "GET", found.group(2), found.group(3))
        if blob.data is None:
            raise ApiError(422, "invalid_params", "the source blob was never uploaded")
        return blob.data

    def run_build(self, app: App, build: Build) -> None:
        log: Callable[[str], None] = build.output.append
        try:
            data = self.source_bytes(build.source_blob["url"])
            checksum = build.source_blob.get("checksum")
            if checksum and checksum != "SHA256:" + hashlib.sha256(data).hexdigest():
                log(f" !     The source tarball's checksum does not match {checksum}.")
                raise ApiError(422, "invalid_params", "checksum mismatch")
            work = self.runtime.state_dir / "slugs" / build.id
            app_dir = work / "app"
            unpack(data, app_dir)
            ok = self.runtime.build(app_dir, build.id, log)
        except (ApiError, OSError, tarfile.TarError, subprocess.SubprocessError) as error:
            # Whatever stops the build fails it, with the reason in its output (never a build left pending).
            log(f" !     {error}")
            ok = False
        with self.lock:
            if app.id not in self.apps:
                return
            if not ok:
                build.status = "failed"
                build.updated_at = now()
                return
            process_types = procfile(app_dir)
            log("-----> Discovering process types")
            log(f"       Procfile declares types -> {', '.join(sorted(process_types)) or '(none)'}")
            slug = Slug(id=new_id(), commit=build.source_blob.get("version"), process_types=process_types,
                        size=tree_size(app_dir), path=app_dir)  # fmt: skip
            app.slugs[slug.id] = slug
            log(f"-----> Compressing...\n       Done: {slug.size // 1_000_000}M")
            log("-----> Launching...")
            version = (build.source_blob.get("version") or "")[:8]
            release = self.release(app, f"Deploy {version}".strip(), slug.id)
            log(f"       Released v{release.version}")
            log(f"       {self.web_url(app)} deployed to Heroku (stand-in: served at {self.router_url(app)})")
            build.slug_id, build.release_id = slug.id, release.id
            build.status = "succeeded"
            build.updated_at = now()

    # ----- formation

    def update_formation(self, app: App, updates: list[dict[str, Any]]) -> tuple[int, Any]:
        changed = []
        for update in updates:
            formation = app.formation.get(update["type"])
            if formation is None:
                raise ApiError(404, "not_found", f"Couldn't find that process type ({update['type']}).")
            size = formation.size
            if "dyno_size" in update:
                wanted = str(update["dyno_size"].get("name") or update["dyno_size"].get("id") or "")
                matches = [s for s in DYNO_SIZES if s.lower() == wanted.lower()]
                if not matches:
                    raise ApiError(422, "invalid_params", f"No such dyno size: {wanted}.")
                size = matches[0]
            quantity = int(update.get("quantity", formation.quantity))
            if size in SINGLE_DYNO_SIZES and quantity > 1:
                message = f"Cannot scale to more than 1 {size} size dynos per process type."
                raise ApiError(422, "invalid_params", message)
            formation.size, formation.quantity, formation.updated_at = size, quantity, now()
            changed.append(formation)
        if any(f.type == "web" for f in changed):
            self.restart(app)
        return 200, [self.render_formation(app, f) for f in changed]

    # ----- domains

    def create_domain(self, app: App, body: dict[str, Any]) -> tuple[int, Any]:
        hostname = body["hostname"].lower()
        if any(d.hostname == hostname for app_ in self.apps.values() for d in app_.domains):
            raise ApiError(422, "invalid_params", f"{hostname} is already in use by another app.")
        words = "-".join(secrets.choice(["gentle", "quiet", "rapid", "sunny", "brave"]) for _ in range(2))
        cname = f"{words}-{secrets.token_hex(7)}.herokudns.com"
        domain = Domain(id=new_id(), hostname=hostname, cname=cname, acm_status="pending" if app.acm else None)
        app.domains.append(domain)
        return 201, self.render_domain(app, domain)


def bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def new_size_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dyno-size:{name}"))


def unpack(data: bytes, dest: Path) -> None:
    """Unpack a gzipped tarball as Heroku does: safely, a single top-level directory stripped."""
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        inner = entries[0]
        for child in inner.iterdir():
            child.rename(dest / child.name)
        inner.rmdir()


def procfile(app_dir: Path) -> dict[str, str]:
    path = app_dir / "Procfile"
    if not path.is_file():
        return {}
    found = (re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line) for line in path.read_text().splitlines())
    return {m.group(1): m.group(2).strip() for m in found if m}


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
