# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SHA-256 of a directory tree on the controller: every file's relative path and content."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: tree_digest
short_description: SHA-256 of a directory tree on the controller
version_added: 0.1.0
description:
  - Returns one SHA-256 hex digest per directory given, over the relative path and the content of
    every regular file below it, in a fixed order. The same tree gives the same digest wherever it lies.
  - Used by the roles of this collection to notice that their own files changed (see the
    M(streamlit_ops.deploy.converged) module).
author: streamlit_ops.deploy contributors
options:
  _terms:
    description: Directories on the controller.
    required: true
    type: list
    elements: path
  exclude:
    description: File and directory names to leave out, wherever they are in the tree.
    type: list
    elements: str
    default: [.git, __pycache__]
"""

EXAMPLES = r"""
- name: Show the digest of the role's own files
  ansible.builtin.debug:
    msg: "{{ lookup('streamlit_ops.deploy.tree_digest', role_path, exclude=['README.md']) }}"
"""

RETURN = r"""
_raw:
  description: One SHA-256 hex digest per directory.
  type: list
  elements: str
"""

import hashlib
import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase


def tree_digest(top, exclude):
    """SHA-256 over (relative path, content) of every regular file below TOP, sorted by path."""
    if not os.path.isdir(top):
        raise AnsibleLookupError("tree_digest: %s is not a directory" % top)
    skip = set(exclude)
    entries = []
    for root, dirs, files in os.walk(top):
        dirs[:] = [name for name in dirs if name not in skip]
        for name in files:
            path = os.path.join(root, name)
            if name not in skip and os.path.isfile(path):
                entries.append(os.path.relpath(path, top))
    total = hashlib.sha256()
    for rel in sorted(entries):
        with open(os.path.join(top, rel), "rb") as handle:
            content = hashlib.sha256(handle.read()).hexdigest()
        total.update(("%s\0%s\n" % (rel, content)).encode("utf-8", "surrogateescape"))
    return total.hexdigest()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        exclude = self.get_option("exclude")
        return [tree_digest(term, exclude) for term in terms]
