"""How much configuring code there is: tasks configure.yml lists, lines of YAML under roles/ (issue 18).

Counted for the checkout and, as the baseline, for the collection at SIZE_BEFORE_COMMIT (the
last commit before the play-level gate), extracted as editions.before extracts its edition,
so one run shows both. Counts, not timings: they are the same in every iteration.
"""

from __future__ import annotations

import re
from pathlib import Path

import editions
import playbook
from report import Metric
from stats import Stat

SIZE_BEFORE_COMMIT = "c0c3afe"
CONFIGURE = "playbooks/configure.yml"
# A task line of --list-tasks (a play's line is indented less): "      <name>\tTAGS: [...]".
LISTED_TASK = re.compile(r"^ {6}\S.*\tTAGS: \[", re.MULTILINE)


def listed_tasks(configure: str, log: Path, env: dict[str, str]) -> int:
    """The tasks `ansible-playbook --list-tasks` lists for a configure.yml (included files are not expanded)."""
    run = playbook.run(configure, log, inventory="localhost,", options=["--list-tasks"], env=env).check()
    return len(LISTED_TASK.findall(run.log.read_text()))


def yaml_lines(roles: Path) -> int:
    """Lines of every YAML file under ROLES (tasks, handlers, vars, defaults, meta: comments and blanks too)."""
    files = [path for path in roles.rglob("*") if path.suffix in (".yml", ".yaml") and path.is_file()]
    return sum(len(path.read_text().splitlines()) for path in files)


def counts(configure: str, roles: Path, log: Path, env: dict[str, str]) -> dict[str, int]:
    return {"configure_listed_tasks": listed_tasks(configure, log, env), "roles_yaml_lines": yaml_lines(roles)}


ROWS = {
    "configure_listed_tasks": ("tasks", "ansible-playbook --list-tasks playbooks/configure.yml"),
    "roles_yaml_lines": ("lines", "every line of roles/**/*.yml"),
}


def figures(root: Path) -> list[Metric]:
    """The counts of the checkout, each against the collection at SIZE_BEFORE_COMMIT when the checkout has it."""
    logs = root / "logs"
    now = counts(CONFIGURE, playbook.REPO / "roles", logs / "size-list-tasks.log", {})
    edition = editions.before(root, SIZE_BEFORE_COMMIT)
    if edition is None:
        before: dict[str, int] = {}
    else:
        roles = Path(edition.playbook).parents[1] / "roles"
        before = counts(edition.playbook, roles, logs / f"size-list-tasks-{SIZE_BEFORE_COMMIT}.log", edition.env)
    rows = []
    for name, (unit, note) in ROWS.items():
        baseline = Stat.of([before[name]]) if name in before else None
        ratio = Stat.of([now[name] / before[name]]) if name in before else None
        label = f"before ({SIZE_BEFORE_COMMIT})" if name in before else ""
        rows.append(Metric(name, unit, Stat.of([now[name]]), baseline, label, ratio, "fewer (issue 18)", note))
    return rows
