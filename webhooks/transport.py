"""Sending one webhook request: the signature, the POST itself (no redirects followed, a
timeout, no proxy from the environment), and every outcome turned into words.

Connections go through a guarded connection class that resolves the host itself, checks
every address with webhooks.addresses, and connects to an address it has checked: there
is no second lookup an attacker's DNS could answer differently.
"""

import hashlib
import hmac
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util.connection import create_connection

from webhooks.addresses import address_refusal, resolve
from webhooks.models import BODY_EXCERPT_LENGTH

USER_AGENT = "PM-Value-Webhooks/1"


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-PMValue-Signature value: HMAC-SHA256 of "<timestamp>.<body>", in hex."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    """What one attempt got: the status code (None without an answer), an excerpt of the
    body, and the error in words ("" for a 2xx)."""

    status_code: int | None
    body: str
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class AddressRefused(NewConnectionError):
    """The host resolved to an address webhooks may not reach."""

    def __init__(self, conn: Any, reason: str) -> None:
        super().__init__(conn, reason)
        self.reason = reason


def _guarded_new_conn(conn: HTTPConnection) -> socket.socket:
    host = conn.host
    try:
        addresses = resolve(conn._dns_host, conn.port or 443)
    except socket.gaierror as exc:
        raise NameResolutionError(host, conn, exc) from exc
    for address in addresses:
        refusal = address_refusal(host, address)
        if refusal is not None:
            raise AddressRefused(conn, refusal)
    last: OSError | None = None
    for address in addresses:
        try:
            return create_connection(
                (address, conn.port or 443),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(conn, f"Connection to {host} timed out.") from exc
        except OSError as exc:
            last = exc
    raise NewConnectionError(conn, f"Failed to establish a new connection: {last}")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_new_conn(self)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_new_conn(self)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc from the worker's environment
    adapter = _GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def post(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POSTs `body` once and says what happened. Never raises for the receiver's doing."""
    host = urlsplit(url).hostname or url
    try:
        with _session() as session:
            response = session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
            try:
                raw = response.raw.read(BODY_EXCERPT_LENGTH, decode_content=True) or b""
            finally:
                response.close()
    except requests.exceptions.ConnectTimeout:
        return Answer(None, "", f"Could not connect to {host} within {timeout:g} seconds.")
    except requests.exceptions.ReadTimeout:
        return Answer(None, "", f"The receiver did not answer within {timeout:g} seconds.")
    except requests.exceptions.SSLError as exc:
        return Answer(None, "", f"The TLS connection to {host} failed: {_reason(exc)}")
    except requests.exceptions.ConnectionError as exc:
        return Answer(None, "", _connection_error(host, exc))
    except requests.exceptions.RequestException as exc:
        return Answer(None, "", f"The request to {host} failed: {_reason(exc)}")
    excerpt = _excerpt(raw)
    code = response.status_code
    if 200 <= code < 300:
        return Answer(code, excerpt, "")
    phrase = f"{code} {response.reason}".strip()
    if 300 <= code < 400:
        where = response.headers.get("Location", "another address")
        return Answer(
            code,
            excerpt,
            f"The receiver answered {phrase}, a redirect to {where[:300]}: deliveries do "
            "not follow redirects, so register the final address.",
        )
    return Answer(code, excerpt, f"The receiver answered {phrase}.")


def _excerpt(raw: bytes) -> str:
    # PostgreSQL text holds no NUL character.
    return (
        raw[:BODY_EXCERPT_LENGTH]
        .decode("utf-8", errors="replace")
        .replace("\x00", "")[:BODY_EXCERPT_LENGTH]
    )


def _cause(exc: BaseException) -> BaseException:
    inner = exc.args[0] if exc.args else None
    if isinstance(inner, MaxRetryError) and inner.reason is not None:
        return inner.reason
    return inner if isinstance(inner, BaseException) else exc


def _reason(exc: BaseException) -> str:
    return str(_cause(exc))[:300]


def _connection_error(host: str, exc: requests.exceptions.ConnectionError) -> str:
    cause = _cause(exc)
    if isinstance(cause, AddressRefused):
        return f"Not sent: {cause.reason}"
    if isinstance(cause, NameResolutionError):
        return f"The host name {host} could not be resolved."
    text = str(cause)
    if "Failed to establish a new connection: " in text:
        text = text.split("Failed to establish a new connection: ", 1)[1]
    if "Connection refused" in text:
        return f"Could not connect to {host}: the connection was refused."
    return f"Could not connect to {host}: {text[:300]}"
