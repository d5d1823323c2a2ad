"""Reading what the user clicked on the map (pure: testable without a browser)."""

from __future__ import annotations

from typing import Any

__all__ = ["clicked_name"]


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
