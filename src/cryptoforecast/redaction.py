"""Keep secrets out of messages: one place that masks database URLs and credentials in text.

Every error, log record and response that may show a database URL (the registry, the ledger,
the Optuna storage) goes through :func:`mask_url`; free text that may embed one (a driver's error
message, a job's failure) goes through :func:`redact`. ``user:secret@host`` becomes
``user:***@host``; a query parameter named like a secret (``password=``, ``api_key=``, ``token=``)
keeps its name and loses its value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MASK", "hide_paths", "mask_url", "password_of", "redact"]

MASK = "***"

# scheme://user:password@  (the password is anything up to the last '@' before the host part)
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)[^\s'\"]*(?=@)")
# password=..., api_key=..., x-cg-pro-api-key=..., token=... in query strings or key=value text
_SECRET_PARAM = re.compile(
    r"(?P<head>\b[\w\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key)[\w\-]*\s*[=:]\s*"
    r"['\"]?)[^\s&'\",;}]+",
    re.IGNORECASE,
)

# an absolute POSIX path of two or more components, not part of a URL ("https://h/a/b")
_ABS_PATH = re.compile(r"(?<![\w.~/:\-])(?:/[^\s/'\":,;()\[\]]+){2,}/?")


def mask_url(url: object) -> str:
    """``url`` as text with its password (and secret-looking query values) replaced by ``***``.

    Works on anything (a malformed URL, ``None``, a SQLAlchemy ``URL``): it never raises, so it is
    safe to call while building an error message.
    """
    if url is None:
        return ""
    render = getattr(url, "render_as_string", None)
    text = render(hide_password=True) if callable(render) else str(url)
    return redact(text)


def redact(text: object, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with URL passwords, ``key=secret`` values and every non-empty string in
    ``secrets`` (API keys, passwords) replaced by ``***``."""
    out = str(text)
    for secret in secrets:
        if secret:
            out = out.replace(secret, MASK)
    out = _USERINFO.sub(lambda m: m.group("head") + MASK, out)
    return _SECRET_PARAM.sub(lambda m: m.group("head") + MASK, out)


def password_of(url: object) -> tuple[str, ...]:
    """The password in a database URL (to mask wherever a driver repeats it), or ``()``."""
    match = re.match(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:(?P<pw>[^\s]*)@", str(url or ""))
    return (match.group("pw"),) if match and match.group("pw") else ()


def hide_paths(text: object) -> str:
    """``text`` with absolute server paths shortened to their last part (``.../model.txt``).

    For messages that reach anonymous clients: the reason is kept, the server's layout is not.
    """
    return _ABS_PATH.sub(lambda m: ".../" + m.group(0).rstrip("/").rsplit("/", 1)[-1], str(text))
