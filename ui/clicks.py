"""Reading what the user clicked on the map (pure: testable without a browser)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Pick", "clicked_name", "picked_point"]


def clicked_name(result: dict[str, Any] | None) -> str | None:
    """The name of the clicked feature from ``st_folium``'s return value.

    Features carry their name as tooltip text; st_folium returns it with the
    surrounding whitespace of the tooltip HTML.
    """
    if not result:
        return None
    text = result.get("last_object_clicked_tooltip")
    if not text:
        return None
    name = " ".join(str(text).split())
    return name or None


@dataclass(frozen=True)
class Pick:
    """A point the user picked on the map: a marker's position or a bare map click."""

    lat: float
    lon: float
    raw: tuple[Any, Any]
    """What ``st_folium`` returned (to tell the next pick from this one)."""


def picked_point(result: dict[str, Any] | None, previous: tuple[Any, Any] | None) -> Pick | None:
    """The newest pick in ``st_folium``'s return value, or None when nothing changed.

    A click on a marker reports the marker (``last_object_clicked``) and the map click
    under it (``last_clicked``); the marker's own position wins.  Both values persist
    across reruns, so only the one that changed since ``previous`` is new.
    """
    if not result:
        return None
    obj, clk = result.get("last_object_clicked"), result.get("last_clicked")
    raw = (_key(obj), _key(clk))
    if raw == (previous or (None, None)) or (obj is None and clk is None):
        return None
    old_obj = previous[0] if previous else None
    point = obj if obj is not None and raw[0] != old_obj else clk
    if point is None:
        return None
    return Pick(lat=float(point["lat"]), lon=float(point["lng"]), raw=raw)


def _key(point: Any) -> Any:
    return None if not point else (round(float(point["lat"]), 7), round(float(point["lng"]), 7))
