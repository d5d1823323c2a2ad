"""A batch file (TOML): which regions and municipalities to run, and how.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from geo.engine.profiles import (
    ACCESS_RULES,
    DEFAULT_ACCESS,
    DEFAULT_CIRCUITY,
    DEFAULT_JOIN_RADIUS,
    DEFAULT_MAX_DISTANCE,
)
from layers.errors import LayerError
from layers.hazards import hazard_key
from layers.readers import require_file
from layers.shelters import DEFAULT_HAZARD

__all__ = ["BatchConfig", "PartitionSpec", "read_batch"]


DEFAULT_BUFFER = 5000.0
"""Metres around a municipality taken into its partition at first."""


@dataclass(frozen=True)
class Reach:
    """How a unit reaches a facility, as in ``tomoni coverage``: the access rule and its
    radius (:mod:`geo.engine.profiles`), and the circuity of a straight-line estimate
    (``None``: measured on the region's roads when it has them, else the default)."""

    access: str = DEFAULT_ACCESS
    join_radius: float = DEFAULT_JOIN_RADIUS
    circuity: float | None = None


AS_COVERAGE = Reach()
"""The reach of ``tomoni coverage`` with its defaults."""


@dataclass(frozen=True)
class PartitionSpec:
    """One partition: the region file, the municipality and the options."""

    key: str
    region: str
    muni: str
    hazard: str = DEFAULT_HAZARD
    buffer_m: float = DEFAULT_BUFFER
    straight_line: bool = False
    max_distance: float = DEFAULT_MAX_DISTANCE
    reach: Reach = AS_COVERAGE
    network_file: str = ""
    """The partition's own road sub-network (cut by the driver, :func:`prepare_inputs`): a
    worker then holds one partition's graph, not the region's."""


@dataclass
class BatchConfig:
    """A parsed ``REGIONS.toml``."""

    path: Path
    name: str
    region: Path
    """The first (or only) region file."""
    municipalities: list[str] | None
    hazard: str = DEFAULT_HAZARD
    buffer_m: float = DEFAULT_BUFFER
    straight_line: bool = False
    max_distance: float = DEFAULT_MAX_DISTANCE
    reach: Reach = AS_COVERAGE
    regions: list[Path] = field(default_factory=list)
    """Every region file, in order (``regions = [...]``; else just ``region``)."""


def read_batch(path: str | Path) -> BatchConfig:
    """Read a ``REGIONS.toml``::

        [batch]
        name = "秋田県"
        region = "akita.toml"          # the region TOML with every municipality's layers
        municipalities = ["05201", "05202"]   # optional: default all of the boundaries
        hazard = "flood"               # optional
        buffer_m = 5000                # optional
        straight_line = false          # optional: no roads even when the region has them
        access = "nearest"             # optional: the access rule, as tomoni coverage --access
        join_radius = 150              # optional: the radius of access = "multi"
        circuity = 1.3                 # optional: straight line × this (default: measured on the roads)
    """
    path = Path(path)
    if not path.is_file():
        raise LayerError("バッチの設定ファイルが見つかりません。", file=path,
                         fix="REGIONS.toml のパスを確かめてください。")
    require_file(path)
    try:
        doc = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        line = getattr(err, "lineno", None)
        raise LayerError("バッチの設定ファイルを TOML として読めません。", file=path,
                         row=line,
                         fix="[batch] の書き方を確かめてください（docs/region-config.md）。") from None
    b = doc.get("batch")
    if not isinstance(b, dict) or ("region" not in b and "regions" not in b):
        raise LayerError("[batch] に region がありません。", file=path, column="batch.region",
                         fix='[batch] に region = "地域設定.toml"（複数なら regions = ["a.toml", "b.toml"]）'
                         "を書いてください。")
    names = b["regions"] if "regions" in b else [b["region"]]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise LayerError("regions は地域設定ファイルの一覧にしてください。", file=path,
                         column="batch.regions", fix='例: regions = ["01.toml", "02.toml"]')
    regions = [(path.parent / n).resolve() for n in names]
    missing = [n for n, r in zip(names, regions, strict=True) if not r.is_file()]
    if missing:
        raise LayerError(f"[batch] の地域設定ファイルが見つかりません: {', '.join(missing[:5])}", file=path,
                         column="batch.regions" if "regions" in b else "batch.region",
                         fix="地域設定ファイルのパスを、この REGIONS.toml からの相対パスで書いてください。")
    munis = b.get("municipalities")
    if munis is not None and (not isinstance(munis, list)
                              or not all(isinstance(m, str | int) for m in munis)):
        raise LayerError("municipalities は市町村コードの一覧にしてください。", file=path,
                         column="batch.municipalities", fix='例: municipalities = ["05201", "05202"]')
    def positive(key: str, default: float) -> float:
        value = b.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                or value <= 0:
            raise LayerError(f"{key} は正の数にしてください。", file=path, column=f"batch.{key}",
                             fix=f"例: {key} = {default:g}")
        return float(value)

    hazard = hazard_key(str(b.get("hazard", DEFAULT_HAZARD)))
    if hazard is None:
        raise LayerError("hazard の災害の種類が分かりません。", file=path, column="batch.hazard",
                         fix="flood / landslide / tsunami / earthquake …（洪水 などの日本語も可）")
    if not isinstance(b.get("straight_line", False), bool):
        raise LayerError("straight_line は true か false にしてください。", file=path,
                         column="batch.straight_line", fix="例: straight_line = true")
    return BatchConfig(path=path, name=str(b.get("name", path.stem)), region=regions[0], regions=regions,
                       municipalities=[str(m).zfill(5) for m in munis] if munis else None,
                       hazard=hazard, buffer_m=positive("buffer_m", DEFAULT_BUFFER),
                       straight_line=bool(b.get("straight_line", False)),
                       max_distance=positive("max_distance", DEFAULT_MAX_DISTANCE),
                       reach=_reach(b, path, positive))


def _reach(b: dict[str, Any], path: Path, positive: Callable[[str, float], float]) -> Reach:
    """The ``access``/``join_radius``/``circuity`` of a ``[batch]`` table."""
    access = b.get("access", DEFAULT_ACCESS)
    if access not in ACCESS_RULES:
        raise LayerError("access の規則が分かりません。", file=path, column="batch.access",
                         fix=f"次のいずれか: {', '.join(ACCESS_RULES)}")
    circuity = positive("circuity", DEFAULT_CIRCUITY) if "circuity" in b else None
    if circuity is not None and circuity < 1:
        raise LayerError("circuity は 1 以上にしてください（道のりは直線より短くなりません）。", file=path,
                         column="batch.circuity", fix=f"例: circuity = {DEFAULT_CIRCUITY}")
    return Reach(access=str(access), join_radius=positive("join_radius", DEFAULT_JOIN_RADIUS),
                 circuity=circuity)


def specs_for(cfg: BatchConfig) -> list[PartitionSpec]:
    """One spec per municipality of the batch (all of each region's boundaries by default),
    region by region.  Only each region's boundaries are read here."""
    from layers.region import read_config

    specs: list[PartitionSpec] = []
    seen: set[str] = set()
    for path in cfg.regions or [cfg.region]:
        config = read_config(path)
        codes = _boundary_codes(config)
        if cfg.municipalities:
            codes = [c for c in codes if c in cfg.municipalities]
        specs += [PartitionSpec(key=c, region=str(path), muni=c, hazard=cfg.hazard, buffer_m=cfg.buffer_m,
                                straight_line=cfg.straight_line or config.roads is None,
                                max_distance=cfg.max_distance, reach=cfg.reach)
                  for c in codes if c not in seen]
        seen.update(codes)
    unknown = sorted(set(cfg.municipalities or []) - seen)
    if unknown:
        raise LayerError(f"市町村界にないコードがあります: {', '.join(unknown)}", file=cfg.path,
                         column="batch.municipalities",
                         fix="地域設定の市町村界にあるコードにしてください。")
    return specs


def _boundary_codes(config: Any) -> list[str]:
    """The municipality codes of a region's boundaries layer, read alone."""
    from layers.region import municipality_codes

    codes = municipality_codes(config)
    if codes is None:
        raise LayerError("市町村界がないため、市町村ごとに分けられません。", file=config.path,
                         column="layers.boundaries", fix="[layers.boundaries] を追加してください。")
    return codes


def spec_dict(spec: PartitionSpec) -> dict[str, Any]:
    return asdict(spec)


UNIT_COLUMNS = ["unit_id", "muni_code", "count", "place_id", "place_m", "covered",
                "shelter_id", "shelter_m", "shelter_reachable", "nearest_muni", "own_m", "cross"]
