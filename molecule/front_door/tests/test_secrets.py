"""Secrets stay in root-only files, and root never reads or runs what the app user can write.

(test_reruns.py shows that not even -vvv logs a password.)
"""

from __future__ import annotations

import pytest
import testinfra
from conftest import DOMAIN_HOST, IP_HOST, inventory_host

testinfra_hosts: list[str] = []
ROOTS_PATHS = [
    "/etc/front-door",
    "/opt/front-door",
    "/var/lib/front-door",
    "/var/log/front-door",
    "/usr/local/sbin/front-door-certbot",
    "/etc/nginx",
    "/etc/systemd/system/front-door-renew.service",
    "/etc/systemd/system/front-door-renew.timer",
]


@pytest.mark.parametrize("host", [DOMAIN_HOST, IP_HOST])
def test_nothing_root_uses_is_writable_by_others(host: str) -> None:
    target = inventory_host(host)
    paths = " ".join(["%s"] * len(ROOTS_PATHS))
    found = target.check_output(
        f"find {paths} \\( ! -user root -o -perm -g+w ! -group root -o -perm -o+w \\) ! -type l -print", *ROOTS_PATHS
    )
    assert found == ""


@pytest.mark.parametrize(
    "path",
    [
        "/etc/front-door/certbot.env",
        "/opt/front-door/certbot/pip.conf",
    ],
)
def test_settings_that_may_hold_credentials_are_for_root_only(path: str, domain_host: testinfra.host.Host) -> None:
    settings = domain_host.file(path)
    assert (settings.user, settings.mode) == ("root", 0o600)


def test_the_acme_account_key_is_for_root_only(domain_host: testinfra.host.Host) -> None:
    keys = domain_host.check_output("find /etc/front-door/letsencrypt/accounts -name private_key.json").splitlines()
    assert keys
    for key in keys:
        assert domain_host.file(key).user == "root"
        assert domain_host.file(key).mode & 0o077 == 0
    assert domain_host.file("/etc/front-door/letsencrypt/accounts").mode == 0o700


def test_the_app_user_cannot_read_the_password_file(domain_host: testinfra.host.Host) -> None:
    assert domain_host.run("runuser -u app -- cat /etc/front-door/htpasswd").rc != 0
