"""One table of facts about every layer kind: key, labels, id column, geometry, loader.

Everything that needs a layer's Japanese label, its id column or its loader reads
it here (the region loader, the CLI, the app pages, reports, exports), so a new
layer kind is added in one place.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["AREA_KEYS", "FACILITY_KEYS", "LAYERS", "LAYER_KEYS", "LAYER_LABELS", "UPLOAD_KEYS", "LayerFact",
           "id_column", "label_of"]


@dataclass(frozen=True)
class LayerFact:
    """What a layer kind is.

    Attributes
    ----------
    key
        The key in a region TOML (``[layers.KEY]``) and in ``Region.layers``.
    label
        The Japanese name a person reads.
    label_en
        The English name (the app's English switch).
    id_column
        The column that identifies a feature (``None`` when features have no id).
    geometry
        ``"point"``, ``"line"`` or ``"polygon"`` (polygons may be multipart).
    loader_name
        ``module:function`` of the function that reads the layer's files into the canonical
        schema (:attr:`loader`; imported when first used, so reading this table is cheap).
    area
        An area layer that per-area tables are broken down by (自治会, 校区, 市町村).
    uploadable
        Whether a person may add it in the app's upload box.
    """

    key: str
    label: str
    label_en: str
    id_column: str | None
    geometry: str
    loader_name: str
    area: bool = False
    uploadable: bool = True

    @property
    def loader(self) -> Callable[..., gpd.GeoDataFrame]:
        """The function that reads the layer's files into the canonical schema."""
        module, name = self.loader_name.split(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


LAYERS: dict[str, LayerFact] = {f.key: f for f in (
    LayerFact("boundaries", "市町村界", "Municipal boundaries", "code", "polygon",
              "layers.boundaries:load_boundaries", area=True),
    LayerFact("school_districts", "校区", "School districts", "district_id", "polygon",
              "layers.school_districts:load_school_districts", area=True),
    LayerFact("neighbourhoods", "自治会", "Neighbourhood associations", "area_id", "polygon",
              "layers.neighbourhoods:load_neighbourhoods", area=True),
    LayerFact("places", "居場所", "Community places", "place_id", "point", "layers.places:load_places"),
    LayerFact("shelters", "避難所・避難場所", "Shelters", "shelter_id", "point",
              "layers.shelters:load_shelters"),
    LayerFact("hazards", "災害危険区域", "Hazard zones", "zone_id", "polygon", "layers.hazards:load_hazards"),
    LayerFact("vc_sites", "災害VC候補地", "Disaster VC sites", "site_id", "point",
              "layers.vc_sites:load_vc_sites"),
    LayerFact("vulnerable", "要配慮者（匿名化済み）", "People needing care (anonymised)", "unit_id",
              "polygon", "layers.vulnerable:load_vulnerable"),
    LayerFact("barriers", "歩行の障壁（川・鉄道など）", "Walking barriers (rivers, railways)",
              "barrier_id", "line", "layers.barriers:load_barriers", uploadable=False),
)}
"""Every layer kind, in the order maps draw and tables list them."""

LAYER_KEYS = tuple(LAYERS)
LAYER_LABELS = {k: f.label for k, f in LAYERS.items()}
AREA_KEYS = tuple(k for k in reversed(LAYER_KEYS) if LAYERS[k].area)
"""The area layers per-area tables are broken down by, smallest first (自治会, 校区, 市町村)."""
UPLOAD_KEYS = tuple(k for k in LAYER_KEYS if LAYERS[k].uploadable)
"""The layers a person may add in the app's upload box."""
FACILITY_KEYS = ("places", "shelters", "vc_sites")
"""Point layers an analysis can use as facilities (and as named route ends)."""


def label_of(key: str, *, lang: str = "ja") -> str:
    """The label of a layer key (the key itself when unknown)."""
    fact = LAYERS.get(key)
    if fact is None:
        return key
    return fact.label_en if lang == "en" else fact.label


def id_column(frame: gpd.GeoDataFrame, key: str | None = None) -> str | None:
    """The id column of a layer: the fact's when ``key`` is known and present, else the
    first facility id column the frame has (``None`` when it has none)."""
    if key in LAYERS and LAYERS[key].id_column in frame:
        return LAYERS[key].id_column
    for fact in LAYERS.values():
        if fact.id_column is not None and fact.id_column in frame and fact.geometry == "point":
            return fact.id_column
    return "id" if "id" in frame else None
