"""Build the test bed's sod_pebble_ip_cn wheel (a module and the .pth file that imports it).

A wheel is a zip file with a fixed layout; building it with the standard library alone keeps the
test bed offline and fast (no build backend to download). Usage: make_wheel.py <output directory>.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile
from pathlib import Path

NAME = "sod_pebble_ip_cn"
VERSION = "1.0"
HERE = Path(__file__).resolve().parent


def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel_files() -> dict[str, bytes]:
    dist_info = f"{NAME}-{VERSION}.dist-info"
    return {
        f"{NAME}.py": (HERE / f"{NAME}.py").read_bytes(),
        f"{NAME}.pth": f"import {NAME}\n".encode(),
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n"
            "Summary: Test bed only: certbot reads an IP address in a certificate's CN as that address\n"
        ).encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: streamlit_ops make_wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }


def build(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{NAME}-{VERSION}-py3-none-any.whl"
    files = wheel_files()
    record_path = f"{NAME}-{VERSION}.dist-info/RECORD"
    record = "\n".join([*(record_line(path, data) for path, data in files.items()), f"{record_path},,"]) + "\n"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for path, data in [*files.items(), (record_path, record.encode())]:
            info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            wheel.writestr(info, data)
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
