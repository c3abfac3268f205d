"""Test bed only: certbot reads an IP address in a certificate's subject CN as that address.

Pebble 2.4 (Debian's) puts an IP address certificate's address in the subject CN as well as in
the subject alternative names; Let's Encrypt leaves the subject empty. certbot reads the first CN
as a DNS name and refuses an IP address there ("Requested name ... is an IP address"), so every
certbot command that reads the lineage of a Pebble IP certificate fails. This drops a CN that is
an IP address also listed in the subject alternative names, which is what it stands for.

Installed into the front door's certbot virtualenv by the scenario (front_door_certbot_extra_packages)
as a wheel whose .pth file imports it at interpreter start-up.
"""

from __future__ import annotations

import ipaddress
from typing import Any

try:
    from acme import crypto_util
except ImportError:  # acme not installed (yet): nothing to adjust
    crypto_util = None


def _without_ip_common_name(subject: Any, exts: Any) -> tuple[list[str], list[str]]:
    dns_names, ip_addresses = _original(subject, exts)
    if not dns_names:
        return dns_names, ip_addresses
    try:
        common_name = str(ipaddress.ip_address(dns_names[0]))
    except ValueError:
        return dns_names, ip_addresses
    known = {str(ipaddress.ip_address(address)) for address in ip_addresses}
    return (dns_names[1:], ip_addresses) if common_name in known else (dns_names, ip_addresses)


if crypto_util is not None:
    _original = crypto_util.get_identifiers_from_x509
    crypto_util.get_identifiers_from_x509 = _without_ip_common_name
