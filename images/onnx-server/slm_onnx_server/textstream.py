"""Stop strings, matched on decoded text before any of it reaches the client."""

from __future__ import annotations


class StopMatcher:
    """Feeds decoded pieces; releases text that cannot be the start of a stop string.

    OpenAI semantics: the response ends just before the first occurrence of any stop
    string, which itself is not returned. Text that might still grow into a stop string
    is held back until the next piece decides, so a stream never shows part of one.
    """

    def __init__(self, stops: list[str]) -> None:
        self._stops = [s for s in stops if s]
        self._longest = max((len(s) for s in self._stops), default=0)
        self._text = ""
        self._released = 0

    @property
    def active(self) -> bool:
        """False without stop strings: then feed() returns every piece unchanged."""
        return bool(self._stops)

    def feed(self, piece: str) -> tuple[str, bool]:
        """Returns the text now safe to send, and whether a stop string has matched."""
        if not self._stops:
            return piece, False
        search_from = max(0, len(self._text) - self._longest + 1)
        self._text += piece
        found = [i for s in self._stops if (i := self._text.find(s, search_from)) != -1]
        if found:
            end = min(found)
            out = self._text[self._released : end]
            self._released = len(self._text)
            return out, True
        safe_end = max(self._released, len(self._text) - self._held_back())
        out = self._text[self._released : safe_end]
        self._released = safe_end
        return out, False

    def flush(self) -> str:
        """At the end of a generation that did not match: release what was held back."""
        out = self._text[self._released :]
        self._released = len(self._text)
        return out

    def _held_back(self) -> int:
        text = self._text
        for k in range(min(self._longest - 1, len(text)), 0, -1):
            tail = text[-k:]
            if any(s.startswith(tail) for s in self._stops):
                return k
        return 0
