"""A client that polls the app's health endpoint and page every 100 ms while a deploy runs (through the front door)."""

from __future__ import annotations

import http.client
import ssl
import threading
import time
import urllib.error
import urllib.request

INTERVAL = 0.1
REQUEST_TIMEOUT = 1.0
MAX_SECONDS = 1800.0  # the loop is bounded even if nobody stops it
# The benchmarks' front door has a self-signed certificate: the poller measures availability, not trust.
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE


def answers(url: str, expected: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT, context=TLS) as response:
            return response.status == 200 and expected in response.read().decode(errors="replace")
    # A server going down mid-answer raises IncompleteRead or RemoteDisconnected (HTTPException).
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return False


class Poller(threading.Thread):
    """Polls base_url; one poll is the health endpoint and the page, both answering as Streamlit."""

    def __init__(self, base_url: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.polls: list[tuple[float, bool]] = []
        self.done = threading.Event()

    def poll(self) -> bool:
        return answers(f"{self.base_url}/_stcore/health", "ok") and answers(f"{self.base_url}/", '<div id="root">')

    def run(self) -> None:
        deadline = time.monotonic() + MAX_SECONDS
        while not self.done.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            try:
                ok = self.poll()
            except Exception:  # anything unforeseen is a failed poll, never a dead poller
                ok = False
            self.polls.append((started, ok))
            self.done.wait(max(0.0, INTERVAL - (time.monotonic() - started)))

    def stop(self) -> None:
        self.done.set()
        self.join()

    @property
    def failed(self) -> int:
        return sum(1 for _, ok in self.polls if not ok)

    @property
    def longest_gap(self) -> float:
        """Longest time between two successful polls with failed ones between them (0 when none failed)."""
        gap, last_ok, failed_since = 0.0, None, False
        for at, ok in self.polls:
            if not ok:
                failed_since = True
                continue
            if last_ok is not None and failed_since:
                gap = max(gap, at - last_ok)
            last_ok, failed_since = at, False
        if failed_since and last_ok is not None:
            gap = max(gap, self.polls[-1][0] - last_ok)
        return gap
