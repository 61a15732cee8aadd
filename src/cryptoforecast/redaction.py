"""Keep secrets out of messages: one place that masks database URLs and credentials in text.

Every error, log record and response that may show a database URL (the registry, the ledger,
the Optuna storage) goes through :func:`mask_url` (or :func:`describe_url`, which leaves the
credentials out altogether); free text that may embed one (a driver's error message, a job's
failure) goes through :func:`redact`, with the URL's secrets from :func:`password_of`.
``user:secret@host`` becomes ``user:***@host``; a query parameter named like a secret
(``password=``, ``api_key=``, ``token=``) keeps its name and loses its value.

URLs are parsed, not pattern-matched up to the first odd character: a password may hold quotes,
spaces, ``:`` or an unencoded ``@`` (the user information ends at the *last* ``@`` before the
host), and every one of them is masked whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import unquote

__all__ = ["MASK", "describe_url", "hide_paths", "mask_url", "password_of", "redact"]

MASK = "***"

_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<rest>.*)", re.DOTALL)
# scheme://user:... in free text: everything from the ':' up to the last '@' on the line is
# masked (quotes, spaces and '@' are legal in a password, so nothing shorter is safe)
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)[^\n]*(?=@)")
# password=..., api_key=..., x-cg-pro-api-key=..., token=... in query strings or key=value text
_SECRET_PARAM = re.compile(
    r"(?P<head>\b[\w\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key)[\w\-]*\s*[=:]\s*"
    r"['\"]?)[^\s&'\",;}]+",
    re.IGNORECASE,
)

# an absolute POSIX path of two or more components, not part of a URL ("https://h/a/b")
_ABS_PATH = re.compile(r"(?<![\w.~/:\-])(?:/[^\s/'\":,;()\[\]]+){2,}/?")

#: fragments of a password shorter than this are not masked on their own (too common as text)
_MIN_FRAGMENT = 4


class _Parts(NamedTuple):
    scheme: str
    user: str | None
    password: str | None
    location: str  # host, port, database and query: everything after the user information


def _text_of(url: object) -> str:
    """A URL as plain text, its password included (a SQLAlchemy ``URL`` hides it in ``str``)."""
    render = getattr(url, "render_as_string", None)
    return str(render(hide_password=False)) if callable(render) else str(url)


def _parse(url: object) -> _Parts | None:
    """``url`` split at the last ``@`` of its user information, or ``None`` if not a URL."""
    match = _SCHEME.fullmatch(_text_of(url).strip())
    if match is None:
        return None
    scheme, rest = match.group("scheme"), match.group("rest")
    at = rest.rfind("@")
    user, sep, password = rest[:at].partition(":") if at >= 0 else ("", "", "")
    if at < 0 or "/" in user:  # no user information (an '@' in a path or a query)
        return _Parts(scheme, None, None, rest)
    return _Parts(scheme, user, password if sep else None, rest[at + 1 :])


def mask_url(url: object) -> str:
    """``url`` as text with its password (and secret-looking query values) replaced by ``***``.

    Works on anything (a malformed URL, ``None``, a SQLAlchemy ``URL``): it never raises, so it is
    safe to call while building an error message.
    """
    if url is None:
        return ""
    parts = _parse(url)
    if parts is None:
        return redact(url)
    userinfo = ""
    if parts.user is not None:
        userinfo = parts.user + (f":{MASK}" if parts.password else "") + "@"
    return f"{parts.scheme}://{userinfo}{_mask_params(parts.location)}"


def describe_url(url: object) -> str:
    """``url`` without its user information at all (``postgresql+psycopg://db:5432/r``): how an
    error names a database, so that no part of a credential can reach the message."""
    if url is None:
        return ""
    parts = _parse(url)
    if parts is None:
        return redact(url)
    return f"{parts.scheme}://{_mask_params(parts.location)}"


def password_of(url: object) -> tuple[str, ...]:
    """The secrets in a database URL, to mask wherever a driver repeats them, or ``()``.

    The password as written and percent-decoded, and, when it holds an unencoded ``@`` (which a
    driver may read as the start of the host), each of its parts of four or more characters.
    """
    parts = _parse(url) if url is not None else None
    if parts is None or not parts.password:
        return ()
    found = {parts.password, unquote(parts.password)}
    for whole in list(found):
        found.update(piece for piece in whole.split("@") if len(piece) >= _MIN_FRAGMENT)
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: object, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with URL passwords, ``key=secret`` values and every non-empty string in
    ``secrets`` (API keys, passwords) replaced by ``***``."""
    out = str(text)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        out = out.replace(secret, MASK)
    out = _USERINFO.sub(lambda m: m.group("head") + MASK, out)
    return _mask_params(out)


def _mask_params(text: str) -> str:
    return _SECRET_PARAM.sub(lambda m: m.group("head") + MASK, text)


def hide_paths(text: object) -> str:
    """``text`` with absolute server paths shortened to their last part (``.../model.txt``).

    For messages that reach anonymous clients: the reason is kept, the server's layout is not.
    """
    return _ABS_PATH.sub(lambda m: ".../" + m.group(0).rstrip("/").rsplit("/", 1)[-1], str(text))
