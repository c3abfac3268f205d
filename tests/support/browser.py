"""Chromium for the tests: Debian's package, never a downloaded one, launched one way everywhere.

    with browser.launched(trusting=ca_pem_text, home=tmp_dir) as chromium:
        page = chromium.new_page(); page.goto(url)

``trusting``: PEM text whose certificates (an ACME test server's roots) the browser trusts, in a
throwaway NSS database under ``home`` (Chromium on Linux reads the roots from ``$HOME/.pki``), so
that nothing else on this machine trusts them.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.DOTALL)


def trust_store(home: Path, pem: str) -> None:
    """An NSS database under HOME that trusts every certificate in PEM as a CA (and nothing else)."""
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True)
    for index, certificate in enumerate(PEM.findall(pem)):
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{nssdb}", "-n", f"test-root-{index}", "-t", "C,,"],
            input=certificate, text=True, check=True,
        )  # fmt: skip


@contextmanager
def launched(*, trusting: str = "", home: Path | None = None, args: Sequence[str] = ()) -> Iterator[Browser]:
    """Headless Chromium; with TRUSTING, HOME (an empty directory) holds its own trust store."""
    env = None
    if trusting:
        if home is None:
            msg = "browser.launched: trusting needs a home directory for its trust store"
            raise ValueError(msg)
        trust_store(home, trusting)
        env = {**os.environ, "HOME": str(home)}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, *args], env=env)
        try:
            yield chromium
        finally:
            chromium.close()
