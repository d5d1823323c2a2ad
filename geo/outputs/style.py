"""How each layer kind is drawn, in one place: its style, its place in the interactive and
the printed draw order, and the palettes, for the interactive and the printed maps.

A layer kind of :data:`layers.layer_facts.LAYERS` needs a :class:`Style` here and a place in
:data:`LAYER_ORDER` and :data:`PRINT_ORDER`; :mod:`geo.outputs.maps` and
:mod:`geo.outputs.printed_map` then draw it by its geometry (points, lines or areas) unless
they have a drawer of their own for it (``tests/test_map_features.py`` checks every kind).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from layers.layer_facts import LAYERS

__all__ = [
    "HAZARD_FILL",
    "LAYER_ORDER",
    "LAYER_TITLES",
    "PRINT_ORDER",
    "SHELTER_STATUS",
    "STYLES",
    "Style",
    "density_classes",
]


@dataclass(frozen=True)
class Style:
    """Drawing style of one layer kind (colours as CSS hex)."""

    label: str
    label_en: str
    stroke: str
    fill: str | None = None
    weight: float = 1.0
    fill_opacity: float = 0.0
    dash: str | None = None
    radius: float = 6.0


STYLES: dict[str, Style] = {
    "boundaries": Style("市町村界", "Municipal boundary", "#333333", None, 2.5),
    "school_districts:before": Style("校区（再編前）", "School district (before)", "#1f5fbf", None,
                                     1.8, dash="6 4"),
    "school_districts:after": Style("校区（再編後）", "School district (after)", "#7b2fa8", None, 2.2),
    "school_districts": Style("校区", "School district", "#1f5fbf", None, 1.8),
    "neighbourhoods": Style("自治会", "Neighbourhood association", "#8c8c8c", "#f2efe6", 0.7, 0.25),
    "neighbourhoods:estimated": Style("自治会（推定区域）", "Neighbourhood (estimated)", "#8c8c8c",
                                      "#f2efe6", 0.7, 0.25, dash="3 3"),
    "places": Style("居場所", "Community place", "#c45a00", "#ff9933", 1.5, 0.95, radius=7),
    "vc_sites": Style("災害VC候補地", "Disaster VC candidate", "#5b1a8c", "#b07cd6", 3.0, 0.95,
                      radius=9),
    "roads": Style("道路", "Roads", "#9a9a9a", None, 1.0),
    "barriers": Style(LAYERS["barriers"].label, LAYERS["barriers"].label_en, "#2b6c8f", None, 2.5,
                      dash="6 3"),
    "shelters": Style(LAYERS["shelters"].label, LAYERS["shelters"].label_en, "#1a7f37", "#2ea043", 1.5,
                      0.95),
    "hazards": Style(LAYERS["hazards"].label, LAYERS["hazards"].label_en, "#08306b", "#6baed6", 0.5, 0.45),
    "vulnerable": Style("要配慮者（匿名化）", "People needing care (anonymised)", "#7a0177",
                        "#c51b8a", 0.3, 0.7),
}

SHELTER_STATUS: dict[str, Style] = {
    "usable": Style("避難所（この災害に使用可）", "Shelter usable for this hazard", "#1a7f37",
                    "#2ea043", 1.5, 0.95),
    "in_zone": Style("避難所（危険区域内）", "Shelter inside the hazard zone", "#a40e26", "#ff5a5f",
                     1.5, 0.95),
    "not_designated": Style("避難所（この災害に指定なし）", "Shelter not designated for this hazard",
                            "#6e7781", "#d0d7de", 1.5, 0.95),
}
WELFARE_RING = "#0b3d91"

HAZARD_FILL: dict[str, list[str]] = {
    # light → dark by rank (1 = lowest)
    "flood": ["#c6dbef", "#6baed6", "#2171b5", "#08306b"],
    "inland_flood": ["#c7e9c0", "#74c476", "#238b45"],
    "tsunami": ["#bcbddc", "#807dba", "#54278f"],
    "storm_surge": ["#c7eae5", "#5ab4ac", "#01665e"],
    "landslide": ["#f6e8c3", "#dfc27d", "#a6611a"],
    "earthquake": ["#fde0dd", "#fa9fb5", "#c51b8a"],
    "fire": ["#fee391", "#fe9929", "#cc4c02"],
    "volcano": ["#fcbba1", "#fb6a4a", "#a50f15"],
}

LAYER_ORDER = (
    "vulnerable", "neighbourhoods", "school_districts", "hazards", "barriers", "boundaries", "roads",
    "places", "shelters", "vc_sites",
)
"""The interactive map's draw order (bottom to top)."""
PRINT_ORDER = ("vulnerable", "neighbourhoods", "hazards", "school_districts", "barriers", "roads",
               "boundaries", "places", "shelters", "vc_sites")
"""The printed map's draw order (bottom to top)."""
LAYER_TITLES = {**{k: (f.label, f.label_en) for k, f in LAYERS.items()}, "roads": ("道路", "Roads")}
"""Map legend and layer-switcher titles (Japanese, English), from the layer fact table."""

DENSITY_PALETTE = ["#feebe2", "#fbb4b9", "#f768a1", "#c51b8a", "#7a0177"]


def density_classes(max_value: float, *, k: int = 5) -> list[float]:
    """Upper bounds of ``k`` rounded classes from 0 to ``max_value``."""
    if max_value <= 0:
        return [1.0]
    step = max_value / k
    magnitude = 10.0 ** np.floor(np.log10(step))
    step = max(round(step / magnitude) * magnitude, magnitude)
    return [float(f"{step * (i + 1):.6g}") for i in range(k - 1)] + [float(max_value)]


def hazard_classes(zones: Any) -> Iterator[tuple[str, int, str, Any]]:
    """(hazard type, rank, colour, zones of that type and rank) in drawing order — what the
    interactive and the printed map both draw for the hazard layer."""
    for htype in dict.fromkeys(zones["hazard"].astype(str)):
        part = zones[zones["hazard"] == htype]
        ranks = part["rank"].fillna(1).astype(int).clip(lower=1)
        palette = HAZARD_FILL.get(htype, ["#cccccc"])
        for r in sorted(ranks.unique()):
            yield htype, int(r), palette[min(r, len(palette)) - 1], part[ranks == r]
