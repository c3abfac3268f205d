# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Digests computed on the controller: of a directory tree, and of a role run's inputs."""

from __future__ import annotations

import hashlib
import json
import os

from ansible_collections.streamlit_ops.deploy.plugins.module_utils.converged import content_digest as file_digest

DEFAULT_EXCLUDE = (".git", "__pycache__")


def tree_digest(top, exclude=DEFAULT_EXCLUDE):
    """SHA-256 over (relative path, content) of every regular file below TOP, sorted by path.

    A regular file TOP gives the SHA-256 of its content. Raises NotADirectoryError when TOP is
    neither, and OSError when a file or directory below it cannot be read.
    """
    if os.path.isfile(top):
        return file_digest(top)
    if not os.path.isdir(top):
        raise NotADirectoryError(top)
    skip = set(exclude)
    entries = []

    def unreadable(error):
        raise error

    for root, dirs, files in os.walk(top, onerror=unreadable):
        dirs[:] = [name for name in dirs if name not in skip]
        for name in files:
            path = os.path.join(root, name)
            if name not in skip and os.path.isfile(path):
                entries.append(os.path.relpath(path, top))
    total = hashlib.sha256()
    for rel in sorted(entries):
        content = file_digest(os.path.join(top, rel))
        total.update(("%s\0%s\n" % (rel, content)).encode("utf-8", "surrogateescape"))
    return total.hexdigest()


def inputs_digest(trees, variables):
    """SHA-256 of the tree digests and the (name -> value) mapping, independent of order."""
    document = {"trees": list(trees), "variables": variables}
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode("utf-8")).hexdigest()
