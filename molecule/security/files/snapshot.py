"""snapshot.py OUT: writes (JSON) the type, owner, group and mode of everything under /etc, /usr and
/root (but Ansible's own temporary files and the scenario's samples), to compare before and after a run."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

ROOTS = ("/etc", "/usr", "/root")
SKIP = ("/root/.ansible", "/root/sod-")


def main() -> int:
    found = {}
    for root in ROOTS:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not f"{dirpath}/{d}".startswith(SKIP)]
            for name in [*dirnames, *filenames, ""] if dirpath == root else [*dirnames, *filenames]:
                path = f"{dirpath}/{name}" if name else dirpath
                if path.startswith(SKIP):
                    continue
                st = os.lstat(path)
                found[path] = [stat.S_IFMT(st.st_mode), st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)]
    Path(sys.argv[1]).write_text(json.dumps(found), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
