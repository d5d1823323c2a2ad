"""The base of every analysis summary: a typed, frozen dataclass that also reads as a mapping.

Each analysis result has a ``summary()`` returning a subclass of :class:`Summary`
with one typed field per figure.  Code reads the fields (``s.covered``); the
command line prints :meth:`Summary.as_dict` as JSON.  Reading by key
(``s["covered"]``, ``{**s}``) keeps working for notebooks and older scripts.

Fields whose metadata has ``omit_none=True`` are left out of :meth:`as_dict`
when they are ``None`` (figures that exist only for some methods).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["Summary", "optional"]


def optional(default: Any = None) -> Any:
    """A summary field that is left out of :meth:`Summary.as_dict` while it is ``None``."""
    return dataclasses.field(default=default, metadata={"omit_none": True})


def _plain(value: Any) -> Any:
    if isinstance(value, Summary):
        return value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class Summary(Mapping[str, Any]):
    """A typed summary (subclass it with ``@dataclass(frozen=True)``)."""

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data, in field order."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit_none"):
                continue
            out[f.name] = _plain(value)
        return out

    def __str__(self) -> str:
        """Printed like the JSON the command line prints (what notebooks show)."""
        return str(self.as_dict())

    def __getitem__(self, key: str) -> Any:
        data = self.as_dict()
        if key not in data:
            raise KeyError(key)
        return data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self.as_dict())
