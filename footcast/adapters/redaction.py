"""The one rule for showing a URL without its credentials, and for keeping them out of text.

Every URL the project shows, logs or stores (a source mirror, a proxy, a Redis server) goes
through :func:`redact_url`; text that may quote a URL (an exception's message, a log record)
goes through :func:`scrub` with the credential values :func:`url_secrets` found in it.
Plain Python (standard library only).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import unquote, unquote_plus

# A query parameter whose name (lower-cased, letters and digits only) contains one of these
# carries a credential: password, passwd, pwd, token, access_token, api_key, apikey, secret,
# client_secret, auth, sig/signature, ...
_SECRET_PARAM_PARTS = ("pass", "pwd", "token", "secret", "key", "auth", "credential", "signature")
MASK = "***"


def _secret_param(name: str) -> bool:
    normal = "".join(ch for ch in unquote_plus(name).lower() if ch.isalnum())
    return any(part in normal for part in _SECRET_PARAM_PARTS) or normal == "sig"


def _split_userinfo(url: str) -> tuple[str, str | None, str]:
    """``(scheme://, userinfo or None, everything after the userinfo's "@")``.

    Lenient on purpose (a redactor must not leak what a strict parser rejects): the userinfo
    ends at the last "@" before the path, so an unencoded "@", "?" or "#" in a password is
    still inside it.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "", None, url
    slash = rest.find("/")
    authority = rest if slash < 0 else rest[:slash]
    at = authority.rfind("@")
    if at < 0 or any(ch in authority[:at].partition(":")[0] for ch in "?#"):
        # No userinfo; an "@" seen here belongs to the query or fragment of a URL without a path.
        return scheme + sep, None, rest
    return scheme + sep, authority[:at], rest[at + 1 :]


def _redact_query(rest: str) -> str:
    head, mark, tail = rest.partition("?")
    if not mark:
        return rest
    query, hash_, fragment = tail.partition("#")
    pieces = []
    for piece in query.split("&"):
        name, eq, value = piece.partition("=")
        pieces.append(f"{name}={MASK}" if eq and value and _secret_param(name) else piece)
    return f"{head}?{'&'.join(pieces)}{hash_}{fragment}"


def redact_url(url: str, *, bare_userinfo_is_secret: bool = True) -> str:
    """``url`` as it may be shown, logged or stored: credentials masked, the rest verbatim.

    The password of the userinfo becomes ``***`` (``http://user:***@host/x``,
    ``unix://:***@/path``), and so does the value of every credential-like query parameter
    (``?token=***``; any name containing pass, pwd, token, secret, key, auth, credential or
    signature, case-insensitive). A bare userinfo (no ":") becomes ``***@`` when
    ``bare_userinfo_is_secret``: in an HTTP URL it is usually a token; in a Redis URL it is a
    user name, shown as it is (``bare_userinfo_is_secret=False``). Works on every form
    redis-py accepts (``redis://``, ``rediss://``, ``unix://``) as well as HTTP. Idempotent:
    redacting a redacted URL changes nothing, so a redacted URL is also the key the HTTP
    archive is looked up by.
    """
    start, userinfo, rest = _split_userinfo(url)
    if userinfo is not None:
        user, colon, password = userinfo.partition(":")
        if colon:
            rest = f"{user}:{MASK if password else ''}@{rest}"
        elif user and bare_userinfo_is_secret:
            rest = f"{MASK}@{rest}"
        else:
            rest = f"{user}@{rest}"
    return start + _redact_query(rest)


def url_secrets(url: str) -> list[str]:
    """The credential values in ``url``, as written and percent-decoded (longest first)."""
    found: set[str] = set()
    _start, userinfo, rest = _split_userinfo(url)
    if userinfo is not None:
        user, colon, password = userinfo.partition(":")
        found.update([password] if colon else [user])
    query = rest.partition("?")[2].partition("#")[0]
    for piece in query.split("&"):
        name, eq, value = piece.partition("=")
        if eq and _secret_param(name):
            found.add(value)
    found |= {unquote(value) for value in found} | {unquote_plus(value) for value in found}
    # Too short a value would mask ordinary letters everywhere in a message.
    return sorted((value for value in found if len(value) >= 3 and value != MASK), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str], mask: str = MASK) -> str:
    """``text`` (an exception's message, say) with every secret replaced by ``mask``."""
    for secret in secrets:
        text = text.replace(secret, mask)
    return text


class ScrubLogRecords(logging.Filter):
    """Masks secrets (a whole secret URL, say) in the records of the logger it is added to.

    A record that quotes none of them is left as it is; one that does has its message
    rendered, scrubbed, and stored without arguments.
    """

    def __init__(self, secrets: Iterable[str], mask: str = MASK):
        super().__init__()
        self.secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
        self.mask = mask

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            record.msg, record.args = scrub(message, self.secrets, self.mask), ()
        return True
