"""exposed.py APP_UID APP_GID CANARY...: prints (JSON) the files on this host that a user other
than root and the app user could read and that hold a canary.

"Could read": some other principal (everyone, a group other than root's and the app's, or a
user other than root and the app user) can search every directory on the way and read the
file. Subtrees no such principal can enter (the app's own tree, /root) are not read at all.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

ROOTS = ("/etc", "/home", "/opt", "/root", "/run", "/srv", "/tmp", "/usr/local", "/var")
LIMIT = 64 << 20
BITS = {"r": (stat.S_IROTH, stat.S_IRGRP, stat.S_IRUSR), "x": (stat.S_IXOTH, stat.S_IXGRP, stat.S_IXUSR)}


def allows(st: os.stat_result, principal: tuple[str, int], want: str) -> bool:
    other, group, user = BITS[want]
    kind, ident = principal
    if st.st_mode & other:
        return True
    if kind == "group":
        return st.st_gid == ident and bool(st.st_mode & group)
    if kind == "user":
        return st.st_uid == ident and bool(st.st_mode & user)
    return False


def principals_of(st: os.stat_result, app_uid: int, app_gid: int) -> set[tuple[str, int]]:
    found = {("other", -1)}
    if st.st_gid not in (0, app_gid):
        found.add(("group", st.st_gid))
    if st.st_uid not in (0, app_uid):
        found.add(("user", st.st_uid))
    return found


def ancestors_allow(path: str, principal: tuple[str, int]) -> bool:
    parts = path.split("/")[1:-1]
    current = ""
    for part in ["", *parts]:
        current = current + "/" + part if part else "/"
        if not allows(Path(current).stat(), principal, "x"):
            return False
    return True


def scan(app_uid: int, app_gid: int, canaries: list[bytes]) -> list[dict[str, object]]:
    hits = []
    for root in ROOTS:
        for dirpath, dirnames, filenames in os.walk(root):
            here = os.lstat(dirpath)
            if not any(ancestors_allow(dirpath + "/x", p) for p in principals_of(here, app_uid, app_gid)):
                dirnames[:] = []
                continue
            for name in filenames:
                path = f"{dirpath}/{name}"
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode) or st.st_size > LIMIT:
                    continue
                readers = [
                    p
                    for p in principals_of(st, app_uid, app_gid) | principals_of(here, app_uid, app_gid)
                    if allows(st, p, "r") and ancestors_allow(path, p)
                ]
                if not readers:
                    continue
                try:
                    content = Path(path).read_bytes()
                except OSError:
                    continue
                found = [c.decode() for c in canaries if c in content]
                if found:
                    hits.append({"path": path, "canaries": found, "readers": sorted(map(str, readers))})
    return hits


def main() -> int:
    app_uid, app_gid = int(sys.argv[1]), int(sys.argv[2])
    print(json.dumps(scan(app_uid, app_gid, [c.encode() for c in sys.argv[3:]])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
