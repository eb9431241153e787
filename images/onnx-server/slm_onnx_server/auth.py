"""API keys: loaded from a file, checked in constant time on every /v1 route."""

from __future__ import annotations

import hmac
from pathlib import Path


class ApiKeyError(ValueError):
    """The keys file cannot be used; the message names the file, never a key."""


def load_api_keys(path: Path) -> frozenset[str]:
    """One key per line; blank lines and lines starting with '#' are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ApiKeyError(f"cannot read API keys file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ApiKeyError(f"API keys file {path} is not UTF-8 text") from None
    keys = {line.strip() for line in text.splitlines()}
    keys = {key for key in keys if key and not key.startswith("#")}
    if not keys:
        raise ApiKeyError(f"API keys file {path} holds no key")
    if any(any(c.isspace() for c in key) for key in keys):
        raise ApiKeyError(f"API keys file {path}: a key contains whitespace")
    return frozenset(keys)


class ApiKeyChecker:
    """Accepts `Authorization: Bearer <key>` for any configured key; None disables the check."""

    def __init__(self, keys: frozenset[str] | None) -> None:
        self._keys = tuple(key.encode() for key in keys) if keys is not None else None

    def allows(self, authorization: str | None) -> bool:
        if self._keys is None:
            return True
        if authorization is None:
            return False
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        presented = token.strip().encode()
        # Compare against every key, without an early exit, so timing reveals nothing.
        matches = [hmac.compare_digest(presented, key) for key in self._keys]
        return any(matches)
