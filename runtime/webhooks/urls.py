"""Which URLs a webhook may be sent to.

A webhook makes the server send requests where a tenant says, so an endpoint is checked as a
server-side request forgery risk (OWASP, "Server Side Request Forgery Prevention Cheat
Sheet"): ``https`` only, except plain ``http`` to the loopback interface (a receiver on the
developer's machine); no credentials in the URL; and no address the deployment's own
network answers on unless ``VOXFLOW_WEBHOOK_ALLOW_PRIVATE`` says so: link-local (where cloud
metadata services live, 169.254.169.254), private ranges, unspecified, multicast and
reserved addresses. Host names are resolved and every address checked, at creation and again
before each delivery (a name may be re-pointed after it was accepted).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL = 2000


class WebhookUrlError(ValueError):
    """An endpoint voxflow will not send to; ``code`` names the rule."""

    def __init__(self, code: str, url: str, message: str) -> None:
        super().__init__(f"webhook URL {url!r}: {message}")
        self.code = code


def _refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None
    for kind, hit in (
        ("link-local (cloud metadata)", ip.is_link_local),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if hit:
            return kind
    return None


def check_syntax(url: str) -> tuple[str, int, bool]:
    """``(host, port, loopback_literal)`` of an acceptable URL's form.

    Raises:
        WebhookUrlError: not http(s), ``http`` to a host other than loopback, user info, no
            host, or too long.
    """
    if len(url) > MAX_URL:
        raise WebhookUrlError("url_too_long", url[:80], f"longer than {MAX_URL} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookUrlError("url_scheme", url, "use https://host/path")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError("url_credentials", url, "no user or password in the URL")
    host = parts.hostname
    loopback = host == "localhost" or _is_loopback_literal(host)
    if parts.scheme == "http" and not loopback:
        raise WebhookUrlError(
            "url_scheme", url, "plain http is for a receiver on loopback only; use https"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookUrlError("url_port", url, "the port is not a number 1-65535") from None
    return host, port, loopback


def _is_loopback_literal(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def check_url(url: str, *, allow_private: bool = False) -> None:
    """Refuse ``url`` unless every address its host resolves to may be sent to.

    Raises:
        WebhookUrlError: the form is refused (:func:`check_syntax`), the host does not resolve,
            or an address is link-local, private, unspecified, multicast or reserved (and
            ``allow_private`` is off).
    """
    host, port, _ = check_syntax(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise WebhookUrlError("url_unresolved", url, f"{host} does not resolve: {exc}") from None
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        kind = _refused(address)
        if kind is not None:
            raise WebhookUrlError(
                "url_address",
                url,
                f"{host} is {address}, a {kind} address; set VOXFLOW_WEBHOOK_ALLOW_PRIVATE=true"
                " to allow it",
            )
