# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""regex_problems: why a pattern does not compile, for checking inputs before anything changes."""

from __future__ import annotations

import re
import warnings


def regex_problems(pattern):
    """Filter: [] when PATTERN compiles as a regular expression, else [why not]."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            re.compile(str(pattern))
        except re.error as exc:
            return [str(exc)]
    return []


class FilterModule:
    def filters(self):
        return {"regex_problems": regex_problems}
