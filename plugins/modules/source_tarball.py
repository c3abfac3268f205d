#!/usr/bin/python
# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pack an app folder into a reproducible gzipped tarball."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: source_tarball
short_description: Pack an app folder, plus generated files, into a reproducible gzipped tarball
version_added: 0.1.0
description:
  - >-
    Packs the files under O(src) and the generated O(files) into a gzipped tarball whose bytes depend only on
    the paths, contents, executable bits and link targets (entries sorted by path, every mtime the same,
    owner and group 0 with no names, modes 0644 or 0755, no gzip timestamp or file name). The same content
    always gives the same RV(sha256), so a caller can tell whether it already deployed it.
  - Symbolic links are stored as links, never followed. O(exclude) names are left out wherever they occur.
  - >-
    Supports check mode (the digest is computed, nothing is written). Never reports a change, since the tarball
    is a working file.
  - The heroku_app role uses it to build the source it uploads to Heroku's Build API.
author: streamlit_ops.deploy contributors (!UNKNOWN)
options:
  src:
    description: The app folder.
    type: path
    required: true
  dest:
    description: Where to write the tarball (mode 0600).
    type: path
    required: true
  files:
    description: Files to add, path inside the tarball to content; they replace files of O(src) with the same path.
    type: dict
    default: {}
  exclude:
    description: File or directory names (shell patterns) left out at any depth.
    type: list
    elements: str
    default: [.git, __pycache__, "*.pyc", .venv, .streamlit/secrets.toml]
"""

EXAMPLES = r"""
- name: Pack the app with a Procfile
  streamlit_ops.deploy.source_tarball:
    src: /srv/apps/dashboard
    dest: /tmp/dashboard.tgz
    files:
      Procfile: "web: streamlit run app.py --server.port=$PORT\n"
  register: source
"""

RETURN = r"""
sha256:
  description: SHA-256 of the tarball.
  returned: always
  type: str
checksum:
  description: The same, as Heroku's Build API takes it (C(SHA256:<hex>)).
  returned: always
  type: str
size:
  description: Size of the tarball in bytes.
  returned: always
  type: int
entries:
  description: Number of files and links in the tarball.
  returned: always
  type: int
"""

import fnmatch
import gzip
import hashlib
import io
import os
import stat
import tarfile

from ansible.module_utils.basic import AnsibleModule

MTIME = 315532800  # 1980-01-01, as reproducible zip files use


def excluded(relative, patterns):
    parts = relative.split("/")
    return any(
        fnmatch.fnmatch(part, pattern) or fnmatch.fnmatch(relative, pattern) for part in parts for pattern in patterns
    )


def walk(src, patterns):
    """Relative paths of the files and links under src, directories pruned by the patterns."""
    found = []
    for root, dirs, names in os.walk(src, followlinks=False):
        rel_root = os.path.relpath(root, src)
        rel_root = "" if rel_root == "." else rel_root + "/"
        dirs[:] = [d for d in dirs if not excluded(rel_root + d, patterns) or os.path.islink(os.path.join(root, d))]
        for name in names + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            if not excluded(rel_root + name, patterns):
                found.append(rel_root + name)
    return found


def entry(name, kind, mode=0o644, size=0, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.linkname = linkname
    info.mtime = MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def pack(src, files, patterns):
    """The tarball's bytes and its number of entries."""
    contents = {}
    for rel in walk(src, patterns):
        path = os.path.join(src, rel)
        meta = os.lstat(path)
        if stat.S_ISLNK(meta.st_mode):
            contents[rel] = ("link", os.readlink(path))
        elif stat.S_ISREG(meta.st_mode):
            with open(path, "rb") as handle:
                contents[rel] = ("file", handle.read(), bool(meta.st_mode & 0o111))
    for rel, text in files.items():
        contents[rel.strip("/")] = ("file", text.encode("utf-8"), False)
    directories = sorted({"/".join(rel.split("/")[:i]) for rel in contents for i in range(1, rel.count("/") + 1)})
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in directories:
            tar.addfile(entry(name, tarfile.DIRTYPE, 0o755))
        for rel in sorted(contents):
            item = contents[rel]
            if item[0] == "link":
                tar.addfile(entry(rel, tarfile.SYMTYPE, 0o777, linkname=item[1]))
            else:
                data = item[1]
                tar.addfile(entry(rel, tarfile.REGTYPE, 0o755 if item[2] else 0o644, len(data)), io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue(), len(contents)


def main():
    module = AnsibleModule(
        argument_spec={
            "src": {"type": "path", "required": True},
            "dest": {"type": "path", "required": True},
            "files": {"type": "dict", "default": {}},
            "exclude": {
                "type": "list",
                "elements": "str",
                "default": [".git", "__pycache__", "*.pyc", ".venv", ".streamlit/secrets.toml"],
            },
        },
        supports_check_mode=True,
    )
    src, dest = module.params["src"], module.params["dest"]
    if not os.path.isdir(src):
        module.fail_json(msg=f"src must be a directory: {src}")
    data, count = pack(src, {str(k): str(v) for k, v in module.params["files"].items()}, module.params["exclude"])
    digest = hashlib.sha256(data).hexdigest()
    changed = True
    if os.path.exists(dest):
        with open(dest, "rb") as handle:
            changed = hashlib.sha256(handle.read()).hexdigest() != digest
    if changed and not module.check_mode:
        descriptor = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    module.exit_json(changed=False, sha256=digest, checksum=f"SHA256:{digest}", size=len(data), entries=count)


if __name__ == "__main__":
    main()
