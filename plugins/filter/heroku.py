# Copyright: streamlit_ops.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""heroku_api_error: a Platform API answer as one line for a failure message."""

from __future__ import annotations

from collections.abc import Mapping


def heroku_api_error(answer):
    """Filter: "STATUS ID: MESSAGE" from a registered ansible.builtin.uri result.

    STATUS is the HTTP status ("?" when there was none), ID and MESSAGE Heroku's error id and
    message from the JSON body; without a message in the body, the module's own msg (a
    connection refused, a timeout), else "no answer". The request (its headers hold the API
    key) is never part of it.
    """
    answer = answer if isinstance(answer, Mapping) else {}
    body = answer.get("json")
    body = body if isinstance(body, Mapping) else {}
    status = answer.get("status", "?")
    error_id = body.get("id", "")
    message = body["message"] if "message" in body else answer.get("msg", "no answer")
    return "%s %s: %s" % (status, "" if error_id is None else error_id, message)


class FilterModule:
    def filters(self):
        return {"heroku_api_error": heroku_api_error}
