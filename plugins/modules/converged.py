#!/usr/bin/python
# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
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
  - With pipelining enabled for the connection and a task that is not delegated, the action plugin first runs the
    probe's code (standard library only) on the target's Python, given on the standard input of one command, and
    returns its answer when it is in sync. Any other answer, or a target Python that cannot run it (3.7 or later is
    needed), runs the module, which then reports the difference and forgets the stamp. The interpreter is
    C(ansible_python_interpreter) or the discovered one; where neither is known yet, the first of
    C(/usr/bin/python3), C(/usr/libexec/platform-python) and C(python3) found.
  - The C(streamlit_ops.deploy.converged) role uses it to end a play early on a host that is as the last run
    with the same inputs left it (one probe per host, before the play's roles).
author: streamlit_ops.deploy contributors (!UNKNOWN)
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
  publish:
    description:
      - With O(state=probe), when the host is in sync, also set the recorded O(outputs) as facts of the host
        (RV(ansible_facts)), as the run that recorded them had set them.
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
      - An C(http) URL must answer itself, its redirects are not followed.
    type: list
    elements: str
    default: []
  outputs:
    description: Values to hand back from RV(outputs) on a later probe (O(state=record)).
    type: dict
    default: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: O(state=probe) only reads; O(state=record) and O(state=absent) report what they would change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
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
inputs_digest:
  description:
    - The digest the action plugin computed from O(inputs), to give as O(digest) to a later O(state=record) of the
      same run (the inputs as they were before the run set facts of its own).
  returned: with O(inputs) and O(state=probe)
  type: str
ansible_facts:
  description: The values recorded with O(outputs), as facts.
  returned: with O(publish=true), when the host is in sync
  type: dict
"""

import json
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.streamlit_ops.deploy.plugins.module_utils.converged import (
    FORMAT,
    file_record,
    probe,
    show_argv,
    unit_records,
    url_failure,
)


def systemctl_show(module):
    """A `systemctl show` of units through the module (its PATH lookup and command logging)."""

    def show(units):
        systemctl = module.get_bin_path("systemctl", required=True)
        rc, out, err = module.run_command(show_argv(systemctl, units))
        if rc != 0:
            module.fail_json(msg="systemctl show failed: %s" % (err.strip() or out.strip()), rc=rc)
        return out

    return show


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
        "units": unit_records(params["units"], systemctl_show(module)),
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
            "publish": {"type": "bool", "default": False},
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

    in_sync, reason, outputs = probe(path, params["digest"], systemctl_show(module))
    if not in_sync and params["forget"]:
        # Bookkeeping: the stamp no longer describes the host; not reported as a change.
        remove_stamp(module, path)
    facts = {"ansible_facts": outputs} if in_sync and params["publish"] else {}
    module.exit_json(changed=False, in_sync=in_sync, reason=reason, outputs=outputs, **facts)


if __name__ == "__main__":
    main()
