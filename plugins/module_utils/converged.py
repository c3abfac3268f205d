# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The record ("stamp") of a converged role run and the read-only probe of it.

Standard library only, and no imports from this collection: the converged module imports it,
the converged action plugin sends this file as it is to the target's Python for its quick
probe (see plugins/action/converged.py), and the controller's digest helpers use
content_digest.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys

# A quick probe starts a fresh Python for each role on each host, so what only some probes
# need (subprocess for units, socket for URLs, urllib.request for a URL other than plain http)
# is imported where it is used: urllib.request alone costs the target about 15 ms of CPU.

FORMAT = 1
UNIT_PROPERTIES = ("ActiveState", "UnitFileState", "FragmentPath")


class ProbeError(Exception):
    """The probe could not look (systemctl failed)."""


def content_digest(path):
    """SHA-256 of the regular file at PATH, read in 1 MiB blocks.

    The probe runs as root over files an app user may own: it opens without blocking and
    reads only a regular file, so a FIFO or a device planted there cannot hang or feed it.
    Raises OSError for anything else.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError("not a regular file")
        sha = hashlib.sha256()
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def file_record(path):
    """Type, owner, group, mode and content digest (or link target) of PATH, without following a last link.

    A link also records the digest of the regular file it finally resolves to (an interpreter
    replaced behind a venv's python link shows). What cannot be read is recorded as such.
    """
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {"type": "missing"}
    except OSError as exc:
        return {"type": "unreadable", "error": exc.strerror or str(exc)}
    record = {"uid": st.st_uid, "gid": st.st_gid, "mode": "%04o" % stat.S_IMODE(st.st_mode)}
    try:
        if stat.S_ISLNK(st.st_mode):
            record.update(type="link", target=os.readlink(path))
            if os.path.isfile(path):
                record.update(sha256=content_digest(path))
        elif stat.S_ISDIR(st.st_mode):
            record.update(type="directory")
        elif stat.S_ISREG(st.st_mode):
            record.update(type="file", sha256=content_digest(path))
        else:
            record.update(type="other")
    except OSError as exc:
        return {"type": "unreadable", "error": exc.strerror or str(exc)}
    return record


def describe_difference(path, recorded, found):
    """Why FOUND (a file_record of PATH) differs from RECORDED, or None."""
    if found["type"] == "unreadable":
        return "%s cannot be read (%s)" % (path, found.get("error", "unknown error"))
    if found["type"] != recorded["type"]:
        return "%s is now %s (was %s)" % (path, found["type"], recorded["type"])
    for key in ("target", "sha256", "mode", "uid", "gid"):
        if recorded.get(key) != found.get(key):
            label = {"target": "link target", "sha256": "content", "uid": "owner", "gid": "group"}.get(key, key)
            if key == "sha256" and found["type"] == "link":
                label = "content of the file the link resolves to"
            return "%s changed (%s)" % (path, label)
    return None


def show_argv(systemctl, units):
    """The argv of one `systemctl show` of the properties the probe compares, for UNITS."""
    return [systemctl, "show", "--property=" + ",".join(("Id",) + UNIT_PROPERTIES), "--"] + list(units)


def systemctl_show(units):
    """Output of one `systemctl show` of UNITS' properties; raises ProbeError when it fails."""
    import shutil  # noqa: PLC0415 (see the imports)
    import subprocess  # noqa: PLC0415 (see the imports)

    systemctl = shutil.which("systemctl", path=os.environ.get("PATH", "") + ":/usr/bin:/bin:/usr/sbin:/sbin")
    if not systemctl:
        raise ProbeError("systemctl was not found")
    argv = show_argv(systemctl, units)
    env = dict(os.environ, LC_ALL="C")
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise ProbeError("systemctl show failed: %s" % (err.strip() or out.strip()))
    return out


def unit_records(units, show=systemctl_show):
    """ActiveState, UnitFileState and the unit file's record of each unit, from one SHOW call."""
    if not units:
        return {}
    blocks = show(units).strip().split("\n\n")
    records = {}
    for unit, block in zip(units, blocks):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        fragment = props.get("FragmentPath", "")
        records[unit] = {
            "active": props.get("ActiveState", ""),
            "enabled": props.get("UnitFileState", ""),
            "file": file_record(fragment) if fragment else {"type": "missing"},
        }
    return records


def url_failure(url, timeout=5):
    """None when URL answers with a 2xx status, else why not.

    A plain http URL is asked with one GET over a socket and judged by its status line (a
    redirect is not followed); any other scheme goes through urllib.request.
    """
    import socket  # noqa: PLC0415 (see the imports)
    from urllib.parse import urlsplit  # noqa: PLC0415 (see the imports)

    try:
        parts = urlsplit(url)
        if parts.scheme != "http":
            return _urllib_failure(url, timeout)
        if not parts.hostname:
            return "%s did not answer: no host in the URL" % url
        port = 80 if parts.port is None else parts.port
        host = "[%s]" % parts.hostname if ":" in parts.hostname else parts.hostname.encode("idna").decode("ascii")
        host += "" if parts.port is None else ":%d" % port
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        request = "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (target, host)
        with socket.create_connection((parts.hostname, port), timeout=timeout) as sock:
            sock.sendall(request.encode("ascii"))
            with sock.makefile("rb") as answer:
                status_line = answer.readline(1024)
    except (OSError, ValueError, UnicodeError) as exc:
        return "%s did not answer: %s" % (url, exc)
    fields = status_line.split()
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
        return "%s did not answer: not an HTTP status line (%r)" % (url, status_line[:80])
    status = int(fields[1])
    return None if 200 <= status < 300 else "%s answered %s" % (url, status)


def _urllib_failure(url, timeout):
    """url_failure for what is not plain http, through urllib.request (which follows redirects)."""
    import urllib.error  # noqa: PLC0415 (see the imports)
    import urllib.request  # noqa: PLC0415 (see the imports)

    # urllib's default opener, as urllib.request's module-level shortcut uses it. Not Ansible's
    # open_url: the quick probe runs this file on the target's bare Python, without ansible's module_utils.
    opener = urllib.request.build_opener()
    try:
        with opener.open(url, timeout=timeout) as response:
            if 200 <= response.status < 300:
                return None
            return "%s answered %s" % (url, response.status)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return "%s did not answer: %s" % (url, getattr(exc, "reason", exc))


def read_stamp(path):
    """(stamp, None), or (None, why there is no usable stamp)."""
    try:
        with open(path, encoding="utf-8") as handle:
            stamp = json.load(handle)
    except FileNotFoundError:
        return None, "no record of an earlier run"
    except (OSError, ValueError) as exc:
        return None, "the record of the last run is unreadable (%s)" % exc
    if not isinstance(stamp, dict) or stamp.get("format") != FORMAT:
        return None, "the record of the last run has another format"
    return stamp, None


def probe(path, digest, show=systemctl_show):
    """(in_sync, reason, outputs) of the host against the stamp at PATH, read-only.

    Raises ProbeError when systemd cannot be asked.
    """
    stamp, why = read_stamp(path)
    if stamp is None:
        return False, why, {}
    if stamp.get("digest") != digest:
        return False, "the inputs or the role changed since the last run", {}
    for name, recorded in stamp.get("files", {}).items():
        why = describe_difference(name, recorded, file_record(name))
        if why:
            return False, why, {}
    units = stamp.get("units", {})
    found = unit_records(list(units), show)
    for unit, recorded in units.items():
        now = found.get(unit, {})
        for key in ("active", "enabled"):
            if now.get(key) != recorded.get(key):
                return False, "%s is %s (was %s)" % (unit, now.get(key) or "unknown", recorded.get(key)), {}
        if now.get("file") != recorded.get("file"):
            return False, "the unit file of %s changed" % unit, {}
    for url in stamp.get("urls", []):
        why = url_failure(url)
        if why:
            return False, why, {}
    return True, "in sync", stamp.get("outputs", {})


def quick_probe(arguments):
    """Entry point of the action's quick probe: ARGUMENTS is the JSON of {path, digest}; prints the answer."""
    args = json.loads(arguments)
    try:
        in_sync, reason, outputs = probe(args["path"], args["digest"])
        answer = {"in_sync": in_sync, "reason": reason, "outputs": outputs}
    except ProbeError as exc:
        answer = {"failed": True, "msg": str(exc)}
    sys.stdout.write(json.dumps({"streamlit_ops_quick_probe": answer}) + "\n")
