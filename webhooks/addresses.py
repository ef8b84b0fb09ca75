"""Which receiver addresses webhooks may reach: https only (http for localhost in DEBUG and
tests), no credentials in the URL, and in production no private, loopback, link-local or
otherwise non-public address (SSRF). The address is checked when an endpoint is saved and
again on every connection (webhooks/transport.py), so a host name that later resolves to
an internal address (DNS rebinding) is still refused."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from webhooks.models import URL_LENGTH

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def allows_local(host: str) -> bool:
    """http and loopback addresses for localhost: DEBUG and tests only."""
    return bool(settings.WEBHOOK_ALLOW_HTTP_LOCALHOST) and host.lower() in LOCAL_HOSTS


def address_refusal(host: str, address: str) -> str | None:
    """Why `host`, resolved to `address`, may not be reached; None when it may."""
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES or allows_local(host):
        return None
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified):
        return None
    return (
        f"{host} resolves to {ip}, a private, loopback or link-local address: webhooks "
        "only reach receivers on the public internet."
    )


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order (raises socket.gaierror)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def url_refusal(url: str) -> str | None:
    """Why this receiver URL is refused, in words; None when it is accepted."""
    if len(url) > URL_LENGTH:
        return f"Keep the address within {URL_LENGTH} characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "This is not a valid address: check the host name and the port."
    host = parts.hostname or ""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return "Enter a full address that starts with https://, such as https://example.com/hooks."
    if parts.username is not None or parts.password is not None:
        return (
            "Remove the user name and password from the address: a receiver checks the "
            "signature of each delivery instead, and a password in a URL ends up in logs."
        )
    if scheme == "http" and not allows_local(host):
        return (
            "Only https:// addresses are accepted: deliveries carry your workspace's data "
            "and must be encrypted on the way."
        )
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES or allows_local(host):
        return None
    try:
        addresses = resolve(host, port or (443 if scheme == "https" else 80))
    except (socket.gaierror, UnicodeError):
        return f"The host name {host} could not be found: check the address."
    for address in addresses:
        refusal = address_refusal(host, address)
        if refusal is not None:
            return refusal
    return None
