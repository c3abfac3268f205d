"""make_index.py WHEELHOUSE: writes WHEELHOUSE/simple/<project>/index.html (PEP 503) for its wheels.

The wheels stay in WHEELHOUSE/packages; each link carries the wheel's sha256, as PyPI's do.
"""

from __future__ import annotations

import hashlib
import html
import re
import sys
from collections import defaultdict
from pathlib import Path


def project(wheel: str) -> str:
    return re.sub(r"[-_.]+", "-", wheel.split("-", 1)[0]).lower()


def main() -> int:
    root = Path(sys.argv[1])
    wheels: dict[str, list[Path]] = defaultdict(list)
    for wheel in sorted((root / "packages").glob("*.whl")):
        wheels[project(wheel.name)].append(wheel)
    simple = root / "simple"
    for name, files in wheels.items():
        links = "".join(
            f'<a href="../../packages/{html.escape(f.name)}#sha256={hashlib.sha256(f.read_bytes()).hexdigest()}">'
            f"{html.escape(f.name)}</a><br>\n"
            for f in files
        )
        (simple / name).mkdir(parents=True, exist_ok=True)
        (simple / name / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    index = "".join(f'<a href="{name}/">{name}</a><br>\n' for name in sorted(wheels))
    (simple / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{index}</body></html>\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
