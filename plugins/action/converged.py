# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action for streamlit_ops.deploy.converged: computes the inputs digest on the controller, then runs the module.

A probe first asks the target's Python directly (the quick probe): it sends the standard-library
probe code of module_utils/converged.py, with the stamp path and the digest, on the standard input of
one pipelined command. That costs a Python start-up, where a module run also unpacks and imports
ansible's module_utils (about 0.15 s of CPU on the target per host and task, which is most of what a
no-op run costs on a fleet). Only an in-sync answer is taken from it. Anything else (not in sync,
pipelining off, a delegated task, no Python 3.7+, an error) runs the module, which also forgets a
stamp that no longer holds and reports the difference.
"""

from __future__ import annotations

import json
import re
import shlex

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase
from ansible_collections.streamlit_ops.deploy.plugins.module_utils import converged as probe_code
from ansible_collections.streamlit_ops.deploy.plugins.plugin_utils.digest import inputs_digest, tree_digest

QUICK_KEY = "streamlit_ops_quick_probe"
# Where no interpreter is set or discovered yet: the usual places of a Python 3, in order.
PYTHON_CANDIDATES = ("/usr/bin/python3", "/usr/libexec/platform-python", "python3")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def _variables(self, patterns, task_vars):
        """Every variable whose name matches one of PATTERNS, templated; raises AnsibleError if one cannot be."""
        compiled = [re.compile(pattern) for pattern in patterns]
        names = sorted(name for name in task_vars if any(regex.search(name) for regex in compiled))
        return {name: self._templar.template(task_vars[name]) for name in names}

    def _interpreter_command(self, task_vars):
        """The shell command that runs a Python reading its program from the standard input."""
        interpreter = task_vars.get("ansible_python_interpreter")
        if interpreter is not None:
            interpreter = to_text(self._templar.template(interpreter))
        if not interpreter:
            interpreter = task_vars.get("ansible_facts", {}).get("discovered_interpreter_python")
        if not interpreter:
            interpreter = C.config.get_config_value("INTERPRETER_PYTHON", variables=task_vars)
        if interpreter and not to_text(interpreter).startswith("auto"):
            # As in a module's shebang, the interpreter may come with arguments (/usr/bin/env python3).
            return "%s -" % " ".join(shlex.quote(word) for word in shlex.split(to_text(interpreter)))
        loop = " ".join(shlex.quote(candidate) for candidate in PYTHON_CANDIDATES)
        return 'for p in %s; do if command -v "$p" >/dev/null 2>&1; then exec "$p" -; fi; done; exit 127' % loop

    def _quick_probe(self, args, task_vars):
        """The answer of the quick probe (a dict with in_sync, reason, outputs), or None to run the module."""
        if self._task.delegate_to or not self._is_pipelining_enabled("new"):
            return None
        with open(probe_code.__file__, encoding="utf-8") as handle:
            source = handle.read()
        arguments = json.dumps({"path": args["path"], "digest": args["digest"]})
        program = "%s\n\nquick_probe(%r)\n" % (source, arguments)
        try:
            done = self._low_level_execute_command(self._interpreter_command(task_vars), in_data=to_bytes(program))
        except Exception:  # noqa: BLE001 (any trouble here only means the module answers instead)
            return None
        if done.get("rc") != 0:
            return None
        for line in reversed(to_text(done.get("stdout", "")).splitlines()):
            if line.startswith('{"%s"' % QUICK_KEY):
                try:
                    answer = json.loads(line)[QUICK_KEY]
                except (ValueError, KeyError, TypeError):
                    return None
                return answer if isinstance(answer, dict) and answer.get("in_sync") is True else None
        return None

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
        # A probe hands back the inputs' digest, for a record at the end of the run to use: the
        # inputs as they were before the run set its own facts.
        probing = args.get("state", "probe") == "probe"
        digest = {"inputs_digest": args["digest"]} if inputs is not None and probing else {}
        if probing and args.get("digest"):
            answer = self._quick_probe(args, task_vars)
            if answer is not None:
                outputs = answer.get("outputs", {})
                facts = {"ansible_facts": outputs} if args.get("publish") else {}
                return dict(result, changed=False, in_sync=True, reason=answer.get("reason", "in sync"),
                            outputs=outputs, **facts, **digest)
        result.update(self._execute_module(module_args=args, task_vars=task_vars))
        result.update(digest)
        return result
