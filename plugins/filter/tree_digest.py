# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tree_digest: the SHA-256 of a directory tree on the controller (relative paths and contents)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.streamlit_ops.deploy.plugins.plugin_utils.digest import tree_digest as digest


def tree_digest(path):
    """Filter: the digest of the tree at PATH (a file: of its content), as the converged gate computes it."""
    try:
        return digest(str(path))
    except OSError as exc:
        raise AnsibleFilterError("cannot read %s: %s" % (path, exc)) from exc


class FilterModule:
    def filters(self):
        return {"tree_digest": tree_digest}
