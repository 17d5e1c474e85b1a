"""MongoDB connection strings: masking secrets for logs, reading the database path, checking them.

A URI is printed in log lines, error messages and `newsdesk` status output, and a URI
with a password in it must never reach any of them; so every such message goes through
`mask_uri`. The parser here is deliberately forgiving: it is applied to whatever an
operator typed into MONGO_URI, including malformed values with unescaped characters in
the password, and it must mask those too (over-masking is acceptable, leaking is not).
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote

from pymongo.uri_parser import parse_uri

MASK = "***"

# Query option names whose value is a secret (tlsCertificateKeyFilePassword,
# sslClientCertificateKeyPassword, a "token" or "secret" someone appended, ...).
_SECRET_NAME = re.compile(r"pass|pwd|secret|token", re.IGNORECASE)
# authMechanismProperties holds "KEY:value,KEY:value" pairs, AWS_SESSION_TOKEN among them.
_MECHANISM_PROPERTIES = "authmechanismproperties"


class _Parts(NamedTuple):
    scheme: str  # "mongodb://" or "mongodb+srv://" (whatever precedes the authority)
    userinfo: str | None  # text before the last "@" of the authority, without the "@"
    hosts: str
    path: str  # "" or "/dbname"
    query: str  # "" or "?a=b&c=d"


def _split(uri: str) -> _Parts | None:
    """Split a URI into scheme, userinfo, hosts, path and query; None if it has no scheme."""
    scheme_end = uri.find("://")
    if scheme_end < 0:
        return None
    scheme, rest = uri[: scheme_end + 3], uri[scheme_end + 3 :]
    qmark = rest.find("?")
    before_query = rest if qmark < 0 else rest[:qmark]
    at = before_query.rfind("@")
    if at < 0 and "@" in rest:
        # An "@" only after a "?": either a query value with an "@" or a password with an
        # unescaped "?". Treat everything up to the last "@" as userinfo: may over-mask,
        # never leaks.
        at = rest.rfind("@")
    userinfo = rest[:at] if at >= 0 else None
    after_user = rest[at + 1 :] if at >= 0 else rest
    qmark = after_user.find("?")
    authority_and_path = after_user if qmark < 0 else after_user[:qmark]
    query = "" if qmark < 0 else after_user[qmark:]
    slash = authority_and_path.find("/")
    hosts = authority_and_path if slash < 0 else authority_and_path[:slash]
    path = "" if slash < 0 else authority_and_path[slash:]
    return _Parts(scheme, userinfo, hosts, path, query)


def _mask_userinfo(userinfo: str) -> str:
    user, colon, _password = userinfo.partition(":")
    return f"{user}:{MASK}" if colon else userinfo


def _mask_mechanism_properties(value: str) -> str:
    pairs = []
    for pair in value.split(","):
        key, colon, _secret = pair.partition(":")
        pairs.append(f"{key}:{MASK}" if colon and _SECRET_NAME.search(unquote(key)) else pair)
    return ",".join(pairs)


def _mask_query(query: str) -> str:
    if not query:
        return query
    # Keep the separators ("&" or ";", both legal in MongoDB URIs) exactly as written.
    pieces = re.split(r"([&;])", query[1:])
    out = []
    for piece in pieces:
        name, eq, value = piece.partition("=")
        if eq and _SECRET_NAME.search(unquote(name)):
            piece = f"{name}={MASK}"
        elif eq and unquote(name).lower() == _MECHANISM_PROPERTIES:
            piece = f"{name}={_mask_mechanism_properties(value)}"
        out.append(piece)
    return "?" + "".join(out)


def mask_uri(uri: str) -> str:
    """Return `uri` with its password and secret-looking query values replaced by ``***``.

    Handles ``mongodb://`` and ``mongodb+srv://``, several hosts, no userinfo, and
    query options named like password/secret/token (also inside
    ``authMechanismProperties``). Hosts, user name, database and other options stay
    readable, because those are what an operator needs to see to debug a connection.
    A string without ``://`` (a typo, a bare ``user:pass@host``) cannot be parsed, so
    everything before its last ``@`` is masked rather than printed.
    """
    parts = _split(uri)
    if parts is None:
        return f"{MASK}@{uri.rsplit('@', 1)[1]}" if "@" in uri else uri
    userinfo = "" if parts.userinfo is None else _mask_userinfo(parts.userinfo) + "@"
    return f"{parts.scheme}{userinfo}{parts.hosts}{parts.path}{_mask_query(parts.query)}"


def uri_database(uri: str) -> str | None:
    """The database named in the URI path (``mongodb://h/newsdesk`` -> ``newsdesk``), if any.

    MongoDB URIs may name a default database; when an operator writes one into
    MONGO_URI, that is the database they mean newsdesk to use.
    """
    parts = _split(uri)
    if parts is None:
        return None
    name = unquote(parts.path.lstrip("/"))
    return name or None


class InvalidURI(ValueError):
    """A connection string the driver cannot use; the message is the driver's."""


def check_uri(uri: str) -> None:
    """Raise InvalidURI when the driver cannot parse `uri`, before anything tries to connect.

    A ``mongodb+srv://`` URI is not checked here: parsing it looks its name up in DNS, and
    connecting to it tells the same more plainly.
    """
    if uri.startswith("mongodb+srv://"):
        return
    try:
        parse_uri(uri)
    except Exception as exc:  # noqa: BLE001 - InvalidURI, ConfigurationError, ValueError, ...
        raise InvalidURI(str(exc)) from None
