# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for streamlit_ops.deploy.converged: computes the inputs digest on the controller, then runs the module."""

from __future__ import annotations

import re

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.streamlit_ops.deploy.plugins.plugin_utils.digest import inputs_digest, tree_digest


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def _variables(self, patterns, task_vars):
        """Every variable whose name matches one of PATTERNS, templated; raises AnsibleError if one cannot be."""
        compiled = [re.compile(pattern) for pattern in patterns]
        names = sorted(name for name in task_vars if any(regex.search(name) for regex in compiled))
        return {name: self._templar.template(task_vars[name]) for name in names}

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        inputs = args.pop("inputs", None)
        if inputs is not None:
            if args.get("digest"):
                return dict(result, failed=True, msg="Give either digest or inputs, not both.")
            lists = isinstance(inputs, dict) and all(isinstance(inputs.get(key, []), list) for key in inputs)
            if not lists or set(inputs) - {"variables", "trees"}:
                return dict(result, failed=True, msg="inputs takes a dict with the lists variables and trees.")
            try:
                trees = [tree_digest(to_text(path)) for path in inputs.get("trees", [])]
                variables = self._variables([to_text(p) for p in inputs.get("variables", [])], task_vars)
                args["digest"] = inputs_digest(trees, variables)
            except (OSError, AnsibleError, re.error, TypeError, ValueError) as exc:
                why = ("%s is not a directory or file" % exc) if isinstance(exc, NotADirectoryError) else to_text(exc)
                why = why.splitlines()[0] if why else type(exc).__name__
                if args.get("state", "probe") == "record":
                    # Record nothing (and forget an older record): the next run takes the full path.
                    result.update(
                        self._execute_module(module_args={"path": args["path"], "state": "absent"}, task_vars=task_vars)
                    )
                    result.update(changed=False, in_sync=False, reason="not recorded")
                    result.setdefault("warnings", []).append(
                        "Not recording the converged state (the next run takes the full path): the inputs "
                        "cannot be read: %s" % why
                    )
                    return result
                if args.get("state", "probe") == "probe":
                    # Say why, and let the role take the full path: its checks name the variable, and it
                    # gathers the facts an input may need.
                    if args.get("forget"):
                        self._execute_module(module_args={"path": args["path"], "state": "absent"}, task_vars=task_vars)
                    return dict(
                        result,
                        changed=False,
                        in_sync=False,
                        outputs={},
                        reason="an input cannot be read before the full path runs: %s" % why,
                    )
        result.update(self._execute_module(module_args=args, task_vars=task_vars))
        return result
