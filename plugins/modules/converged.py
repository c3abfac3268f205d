#!/usr/bin/python
# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record what a role run left on a host, and tell later runs whether it is still so."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: converged
short_description: Tell whether a host is still as the last run of a role with the same inputs left it
version_added: 0.1.0
description:
  - With O(state=record), at the end of a successful role run, writes a stamp file holding
    the digest of the role's inputs, what the run left on the host (for every listed file its
    type, owner, group, mode, the SHA-256 of its content or the target of its link and the
    SHA-256 of the file the link finally resolves to, or that it is missing; for every listed
    systemd unit its active and enablement state and the SHA-256 of its unit file), the URLs
    that answered, and the role's published values. When a URL does not answer, or the inputs
    cannot be read, it writes no stamp (and removes an older one) and warns, without failing.
  - With O(state=probe), at the start of a later run, reads the stamp and checks all of that
    again, read-only, in one module run. RV(in_sync) is true only when the digest is the same
    and nothing recorded differs; RV(reason) names the first difference found. With
    O(forget=true), a stamp that is not in sync is removed, so that a run that fails later
    cannot leave a stamp describing an older state behind.
  - With O(state=absent), removes the stamp.
  - The roles of this collection use it to skip their tasks when nothing would change
    (their C(<role>_skip_if_converged) variable).
author: streamlit_ops.deploy contributors
options:
  path:
    description: The stamp file. Its directory is created (mode 0700) when missing.
    type: path
    required: true
  state:
    description: What to do.
    type: str
    choices: [probe, record, absent]
    default: probe
  digest:
    description:
      - The digest of the role's inputs, computed by the caller.
      - With O(state=probe) and O(state=record), one of O(digest) and O(inputs) is required.
    type: str
  forget:
    description: With O(state=probe), remove a stamp that is not in sync.
    type: bool
    default: false
  inputs:
    description:
      - What the digest is computed from, on the controller (by the action plugin, before the module runs).
      - With O(state=probe), a variable that cannot be templated yet (say it uses a fact not gathered), or a
        tree that is missing, makes RV(in_sync) false with the reason, rather than failing the task.
    type: dict
    suboptions:
      variables:
        description: Regular expressions; every variable whose name matches one is templated and hashed.
        type: list
        elements: str
        default: []
      trees:
        description:
          - Directories on the controller whose files (relative paths and content) are hashed, or single
            files (content).
        type: list
        elements: path
        default: []
  files:
    description: Paths to record (O(state=record)). A missing path is recorded as missing.
    type: list
    elements: path
    default: []
  units:
    description: systemd units to record (O(state=record)).
    type: list
    elements: str
    default: []
  urls:
    description:
      - URLs that must answer with a 2xx status (O(state=record) checks them and records them,
        or records nothing when one does not answer; O(state=probe) checks them again).
    type: list
    elements: str
    default: []
  outputs:
    description: Values to hand back from RV(outputs) on a later probe (O(state=record)).
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    details: O(state=probe) only reads; O(state=record) and O(state=absent) report what they would change.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Look at what the last run left
  streamlit_ops.deploy.converged:
    path: /var/lib/streamlit-ops/converged/example.json
    inputs:
      variables: ['^example_']
      trees: ["{{ role_path }}"]
  register: probe

- name: Record what this run left
  streamlit_ops.deploy.converged:
    path: /var/lib/streamlit-ops/converged/example.json
    state: record
    inputs:
      variables: ['^example_']
      trees: ["{{ role_path }}"]
    files: [/etc/example.conf]
    units: [example.service]
    outputs:
      example_url: http://127.0.0.1:8080/
"""

RETURN = r"""
in_sync:
  description: Whether the stamp's digest matches and the host still holds what was recorded (O(state=probe)).
  returned: always
  type: bool
reason:
  description: Why the host is not in sync, or C(in sync).
  returned: always
  type: str
  sample: /etc/example.conf changed (content)
outputs:
  description: The values recorded with O(outputs) when the host is in sync, else an empty dict.
  returned: always
  type: dict
"""

import hashlib
import json
import os
import stat
import tempfile
import urllib.error
import urllib.request

from ansible.module_utils.basic import AnsibleModule

FORMAT = 1
UNIT_PROPERTIES = ("ActiveState", "UnitFileState", "FragmentPath")


def content_digest(path):
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
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


def unit_records(module, units):
    """ActiveState, UnitFileState and the unit file's digest of each unit, from one systemctl call."""
    if not units:
        return {}
    systemctl = module.get_bin_path("systemctl", required=True)
    argv = [systemctl, "show", "--property=" + ",".join(("Id",) + UNIT_PROPERTIES), "--"] + list(units)
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(msg="systemctl show failed: %s" % (err.strip() or out.strip()), rc=rc)
    blocks = [block for block in out.strip().split("\n\n")]
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


def url_failure(url):
    """None when URL answers with a 2xx status, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (URLs come from the role)
            if 200 <= response.status < 300:
                return None
            return "%s answered %s" % (url, response.status)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return "%s did not answer: %s" % (url, getattr(exc, "reason", exc))


def read_stamp(path):
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


def probe(module, path, digest):
    stamp, why = read_stamp(path)
    if stamp is None:
        return why
    if stamp.get("digest") != digest:
        return "the inputs or the role changed since the last run"
    for name, recorded in stamp.get("files", {}).items():
        why = describe_difference(name, recorded, file_record(name))
        if why:
            return why
    units = stamp.get("units", {})
    found = unit_records(module, list(units))
    for unit, recorded in units.items():
        now = found.get(unit, {})
        for key in ("active", "enabled"):
            if now.get(key) != recorded.get(key):
                return "%s is %s (was %s)" % (unit, now.get(key) or "unknown", recorded.get(key))
        if now.get("file") != recorded.get("file"):
            return "the unit file of %s changed" % unit
    for url in stamp.get("urls", []):
        why = url_failure(url)
        if why:
            return why
    return None


def record(module, params):
    """The stamp to write, or None (with a warning) when a URL does not answer."""
    urls = params["urls"]
    for url in urls:
        why = url_failure(url)
        if why:
            module.warn("Not recording the converged state (the next run takes the full path): %s" % why)
            return None
    return {
        "format": FORMAT,
        "digest": params["digest"],
        "files": {path: file_record(path) for path in params["files"]},
        "units": unit_records(module, params["units"]),
        "urls": urls,
        "outputs": params["outputs"],
    }


def write_stamp(module, path, stamp):
    """Write STAMP to PATH (mode 0600) unless it already holds it; return whether it changed."""
    text = json.dumps(stamp, indent=1, sort_keys=True) + "\n"
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text and stat.S_IMODE(os.fstat(handle.fileno()).st_mode) == 0o600:
                return False
    except (OSError, UnicodeDecodeError):
        pass
    if module.check_mode:
        return True
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".stamp-", dir=directory)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
    return True


def remove_stamp(module, path):
    """Remove the stamp at PATH; return whether there was one."""
    present = os.path.lexists(path)
    if present and not module.check_mode:
        os.unlink(path)
    return present


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["probe", "record", "absent"], "default": "probe"},
            "digest": {"type": "str", "no_log": True},
            "inputs": {"type": "dict"},  # used by the action plugin, which computes digest from it
            "forget": {"type": "bool", "default": False},
            "files": {"type": "list", "elements": "path", "default": []},
            "units": {"type": "list", "elements": "str", "default": []},
            "urls": {"type": "list", "elements": "str", "default": []},
            "outputs": {"type": "dict", "default": {}},
        },
        required_if=[("state", "probe", ["digest"]), ("state", "record", ["digest"])],
        mutually_exclusive=[("digest", "inputs")],
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"]

    if params["state"] == "absent":
        module.exit_json(changed=remove_stamp(module, path), in_sync=False, reason="removed", outputs={})

    if params["state"] == "record":
        stamp = record(module, params)
        if stamp is None:
            remove_stamp(module, path)
            module.exit_json(changed=False, in_sync=False, reason="not recorded", outputs={})
        changed = write_stamp(module, path, stamp)
        module.exit_json(changed=changed, in_sync=True, reason="recorded", outputs=params["outputs"])

    why = probe(module, path, params["digest"])
    if why:
        # Bookkeeping: the stamp no longer describes the host; not reported as a change.
        if params["forget"]:
            remove_stamp(module, path)
        module.exit_json(changed=False, in_sync=False, reason=why, outputs={})
    stamp, _ = read_stamp(path)
    module.exit_json(changed=False, in_sync=True, reason="in sync", outputs=stamp.get("outputs", {}))


if __name__ == "__main__":
    main()
