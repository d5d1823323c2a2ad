"""Region configuration (TOML) and loading every layer of a region.

A region is a folder with a TOML file and the data files it names; paths are
relative to the TOML file.  Minimal shape::

    [region]
    name = "湖東地域"
    # crs = "EPSG:6678"      # optional; default chosen from the data

    [layers.boundaries]
    path = "boundaries.geojson"
    code = "N03_007"          # optional column mapping
    name = "N03_004"

    [layers.shelters]
    path = ["gsi_evacuation_shelters.csv", "gsi_emergency_sites.csv"]

    [roads]
    path = "roads.graphml"
    network = "walk"

See ``docs/region-config.md`` for every key.
"""

from __future__ import annotations

import glob
import inspect
import logging
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import geopandas as gpd
import networkx as nx
import numpy as np

from layers.boundaries import assign_municipality, keep_municipalities
from layers.crs import STORAGE_CRS, analysis_crs_for, ensure_metric, parse_crs
from layers.errors import LayerError
from layers.layer_facts import FACILITY_KEYS, LAYER_KEYS, LAYER_LABELS, LAYERS
from layers.osm_extract import DEFAULT_BUFFER_M, road_clip
from layers.provenance import DATASETS, Source, credits, describe
from layers.readers import detect_format, require_file
from layers.roads import graph_summary, load_roads
from layers.validate import warnings_of
from layers.winter import WinterSpec, read_winter

if TYPE_CHECKING:
    from layers.demand import Demand
    from layers.geocode import Geocoder

__all__ = [
    "LAYER_KEYS",
    "LAYER_LABELS",
    "LayerSpec",
    "Region",
    "RegionConfig",
    "RoadsSpec",
    "attribution_for",
    "empty_region",
    "load_region",
    "municipality_codes",
    "read_config",
]

log = logging.getLogger(__name__)

_LOADERS: dict[str, Callable[..., gpd.GeoDataFrame]] = {k: f.loader for k, f in LAYERS.items()}
# options the region fills itself, never from the TOML
_INTERNAL = {"boundaries", "analysis_crs", "region_areas", "geocoder"}
_COMMON = {"path", "format", "crs", "encoding"}


@dataclass(frozen=True)
class LayerSpec:
    """One ``[layers.KEY]`` table of a region TOML."""

    key: str
    paths: tuple[Path, ...]
    fmt: str | None = None
    crs: str | None = None
    encoding: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    line: int | None = None


@dataclass(frozen=True)
class RoadsSpec:
    """The ``[roads]`` table."""

    path: Path
    network: str = "walk"
    fmt: str | None = None
    drive: Path | None = None
    line: int | None = None
    buffer: float = DEFAULT_BUFFER_M
    """Metres of an OSM extract's roads kept around the region's boundaries."""
    overpass: str | None = None
    """The Overpass endpoint ``tomoni roads --download`` asks (:mod:`layers.osm_download`)."""

    def clip(self, boundaries: gpd.GeoDataFrame | None, crs: str, path: Path | None = None) -> Any:
        """The outline an OSM extract (``path``, default the main road file) is kept to (None:
        a GraphML file, or no boundaries)."""
        if detect_format(path or self.path, None if path else self.fmt) not in ("osm", "pbf"):
            return None
        return road_clip(boundaries, self.buffer, crs)


@dataclass(frozen=True)
class GeocoderSpec:
    """The ``[geocoder]`` table: reference points that place addresses (see
    :mod:`layers.geocode`)."""

    paths: tuple[Path, ...]
    """The 町字/小字 JSON files (``path = "machiaza/*.json"``)."""
    blocks: tuple[Path, ...] = ()
    """Optional MLIT 位置参照情報 街区レベル CSV files (``blocks = "…csv"``)."""
    line: int | None = None


@dataclass(frozen=True)
class RegionConfig:
    """A parsed region TOML (nothing loaded yet)."""

    path: Path
    name: str
    crs: str | None
    fictional: bool
    layers: dict[str, LayerSpec]
    roads: RoadsSpec | None
    attribution: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    municipalities: tuple[str, ...] = ()
    """Municipality codes the region keeps to (empty: every municipality its files hold)."""
    geocoder: GeocoderSpec | None = None
    winter: WinterSpec = field(default_factory=WinterSpec)
    """``[season.winter]``: surface penalties, 除雪優先 roads, 冬期閉鎖 sections."""
    projection: tuple[Path, ...] = ()
    """``[projection] path``: 国土数値情報 500 m mesh population projections."""
    transit: tuple[Path, ...] = ()
    """``[layers.transit] path``: GTFS / GTFS-JP feeds (zip or folder, :mod:`layers.transit`)."""

    @property
    def root(self) -> Path:
        return self.path.parent

    def input_files(self) -> list[Path]:
        """Every file this region reads: the TOML, each layer's files, the road files."""
        paths = [self.path]
        for spec in self.layers.values():
            paths.extend(spec.paths)
        if self.roads is not None:
            paths.append(self.roads.path)
            if self.roads.drive is not None:
                paths.append(self.roads.drive)
        if self.geocoder is not None:
            paths.extend([*self.geocoder.paths, *self.geocoder.blocks])
        paths.extend([*self.winter.priority, *self.winter.closures, *self.projection, *self.transit])
        return paths


@dataclass
class Region:
    """A loaded region: every layer in EPSG:4326 plus the analysis CRS."""

    config: RegionConfig
    crs: str
    layers: dict[str, gpd.GeoDataFrame]
    roads: nx.MultiDiGraph | None = None
    warnings: dict[str, list[str]] = field(default_factory=dict)
    geocoder: Geocoder | None = None
    """Places addresses (``[geocoder]``), when the region has one."""
    demand: Demand | None = field(default=None, repr=False)
    """The register's people in memory (:mod:`layers.demand`) when the 要配慮者 layer is a
    register: the analyses count them exactly, through the gate.  Never written."""
    added: tuple[Source, ...] = ()
    """Sources of files added in the app this session (not in the region file)."""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def sources(self) -> tuple[Source, ...]:
        """Every file this region reads, with where it comes from (:mod:`layers.provenance`)."""
        return (*config_sources(self.config), *self.added)

    @property
    def fictional(self) -> bool:
        return self.config.fictional

    def layer(self, key: str) -> gpd.GeoDataFrame:
        """A loaded layer, or a clear error naming the TOML when it is absent."""
        if key not in self.layers:
            raise LayerError(
                f"この地域にはレイヤー {key}（{LAYER_LABELS.get(key, key)}）がありません。",
                file=self.config.path,
                column=f"layers.{key}",
                fix=f"地域設定に [layers.{key}] と path を追加してください。",
            )
        return self.layers[key]

    def extent(self) -> np.ndarray:
        """Bounds (minx, miny, maxx, maxy) of every layer in the analysis CRS: the
        municipality boundaries when there are some, else all the data."""
        keys = ["boundaries"] if "boundaries" in self.layers else list(self.layers)
        bounds = np.array([self.layers[k].to_crs(self.crs).total_bounds for k in keys
                           if len(self.layers[k])])
        if not len(bounds):
            raise LayerError("地域にデータがありません。", file=self.config.path,
                             fix="地域設定に [layers.…] を追加してください。")
        return np.array([bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()])

    def attribution(self) -> list[str]:
        """Credit lines for the data in this region: the region file's own ``attribution``,
        then each source's credit with its data date (:func:`layers.provenance.credits`)."""
        if self.fictional:  # the demo's own data are invented; files added to it are credited
            own = list(self.config.attribution) or [DATASETS["demo"].credit]
            return list(dict.fromkeys([*own, *credits(self.added)]))
        return list(dict.fromkeys([*self.config.attribution, *credits(self.sources)]))

    def summary(self) -> dict[str, Any]:
        """The ``tomoni check --json`` document."""
        layers: dict[str, Any] = {}
        for key in LAYER_KEYS:
            if key not in self.layers:
                continue
            gdf = self.layers[key]
            bounds = [round(float(v), 6) for v in gdf.total_bounds] if len(gdf) else []
            entry: dict[str, Any] = {
                "rows": len(gdf),
                "crs": STORAGE_CRS,
                "bbox": bounds,
                "warnings": self.warnings.get(key, []),
            }
            counts = gdf.attrs.get("counts")
            if counts:
                entry["counts"] = dict(counts)
            if key == "vulnerable":
                entry["anonymisation"] = dict(gdf.attrs.get("summary", {}))
                entry["note"] = str(gdf.attrs.get("anonymisation_note", ""))
            layers[key] = entry
        out: dict[str, Any] = {
            "region": self.name,
            "fictional": self.fictional,
            "analysis_crs": self.crs,
            "layers": layers,
        }
        if self.roads is not None:
            out["roads"] = graph_summary(self.roads)
            out["roads"]["warnings"] = self.warnings.get("roads", [])
        if self.warnings.get("region"):
            out["warnings"] = self.warnings["region"]
        return out


class RegionLike(Protocol):
    """What the analyses read of a region: a loaded :class:`Region`, or the app's view of one
    with a session's uploads (the same class).  Entries are typed against this, so a test's
    stand-in region needs only these members."""

    config: RegionConfig
    crs: str
    layers: dict[str, gpd.GeoDataFrame]
    roads: nx.MultiDiGraph | None
    geocoder: Geocoder | None
    demand: Demand | None

    @property
    def name(self) -> str: ...

    @property
    def fictional(self) -> bool: ...

    def layer(self, key: str) -> gpd.GeoDataFrame: ...

    def extent(self) -> np.ndarray: ...

    def attribution(self) -> list[str]: ...

    @property
    def sources(self) -> tuple[Source, ...]: ...



def _line_of(text: str, pattern: str) -> int | None:
    for i, line in enumerate(text.splitlines(), start=1):
        if re.match(pattern, line.strip()):
            return i
    return None


def _key_line(text: str, section_line: int | None, key: str) -> int | None:
    """Line of ``key = …`` inside the table that starts at ``section_line``."""
    if section_line is None:
        return None
    lines = text.splitlines()
    for i in range(section_line, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith("["):
            break
        if re.match(rf"{re.escape(key)}\s*=", stripped):
            return i + 1
    return section_line


def _paths(value: Any, root: Path, *, toml: Path, key: str, line: int | None) -> tuple[Path, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise LayerError(
            "path は文字列か文字列のリストで指定してください。",
            file=toml, row=line, column=f"{key}.path",
            fix='path = "shelters.csv" または path = ["a.csv", "b.csv"] と書いてください。',
        )
    out: list[Path] = []
    for item in items:
        p = Path(item).expanduser()
        p = p if p.is_absolute() else root / p
        if any(ch in item for ch in "*?["):
            hits = sorted(Path(h) for h in glob.glob(str(p)))
            if not hits:
                raise LayerError(
                    "パターンに一致するファイルがありません。",
                    file=toml, row=line, column=f"{key}.path",
                    fix="パターン（* など）とフォルダの場所を確認してください。",
                )
            out.extend(hits)
        else:
            if not p.exists():
                raise LayerError(
                    f"ファイルが見つかりません: {p.name}",
                    file=toml, row=line, column=f"{key}.path",
                    fix=f"パス {p} の綴りを確認してください。"
                    "パスは地域設定ファイルのあるフォルダからの相対パスです。",
                )
            out.append(p)
    return tuple(out)


def read_config(path: str | Path) -> RegionConfig:
    """Parse and check a region TOML without loading any data."""
    toml = _locate_toml(path)
    text, data = _parse_toml(toml)
    warnings: list[str] = []
    for k in data:
        if k not in ("region", "layers", "roads", "analysis", "geocoder", "season", "projection"):
            warnings.append(f"不明な見出し [{k}] は無視しました。")
    region, name, crs = _region_table(data, text, toml, warnings)
    layers = _layer_specs(data, text, toml, warnings)
    roads = _roads_spec(data, text, toml)
    geocoder = _geocoder_spec(data, text, toml)
    season = data.get("season", {})
    if not isinstance(season, dict):
        raise LayerError("[season] は表にしてください。", file=toml, column="season",
                         fix="[season.winter] の形で書いてください。")
    winter = read_winter(season.get("winter"), toml=toml)
    projection = _projection_paths(data.get("projection"), toml)
    transit = _transit_paths((data.get("layers") or {}).get("transit"), toml)
    attribution = region.get("attribution", [])
    if isinstance(attribution, str):
        attribution = [attribution]
    for w in warnings:  # said on every command, not only by tomoni check
        log.warning("%s: %s", toml.name, w)
    return RegionConfig(
        path=toml,
        name=name,
        crs=crs,
        fictional=bool(region.get("fictional", False)),
        layers=layers,
        roads=roads,
        attribution=tuple(str(a) for a in attribution),
        warnings=tuple(warnings),
        municipalities=tuple(str(m).zfill(5) for m in region.get("municipalities", [])),
        geocoder=geocoder,
        winter=winter,
        projection=projection,
        transit=transit,
    )


def _section_paths(table: Any, toml: Path, *, key: str, what: str, example: str,
                   folders: bool = False) -> tuple[Path, ...]:
    """The ``path`` (one or a list) of a section that is not a map layer, resolved from the
    region file's folder; each must exist (a file, or with ``folders`` also a folder)."""
    if table is None:
        return ()
    value = table.get("path") if isinstance(table, dict) else None
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise LayerError(f"[{key}] に path がありません。", file=toml, column=f"{key}.path",
                         fix=f"[{key}] path = {example} と書いてください。")
    found = tuple((toml.parent / v).resolve() for v in value)
    missing = [v for v, p in zip(value, found, strict=True) if not (p.exists() if folders else p.is_file())]
    if missing:
        raise LayerError(f"{what}が見つかりません: {', '.join(missing)}", file=toml, column=f"{key}.path",
                         fix="地域設定からの相対パスで書いてください。")
    return found


def _transit_paths(table: Any, toml: Path) -> tuple[Path, ...]:
    """``[layers.transit] path``: GTFS / GTFS-JP feeds, zips or folders (may be absent)."""
    return _section_paths(table, toml, key="layers.transit", what="GTFS", example='["bus.zip"]',
                          folders=True)


def _projection_paths(table: Any, toml: Path) -> tuple[Path, ...]:
    """``[projection] path``: the 国土数値情報 mesh projection files (may be absent)."""
    return _section_paths(table, toml, key="projection", what="将来推計のファイル",
                          example='"500mメッシュ別将来推計人口.geojson"')


ATTRIBUTION = {
    "shelters": "出典：国土地理院「指定緊急避難場所・指定避難所データ」を加工",
    "boundaries": "「国土数値情報（行政区域データ）」（国土交通省）を加工して作成",
    "school_districts": "「国土数値情報（小学校区データ）」（国土交通省）を加工して作成",
}
"""The credit line each public dataset asks for, by the layer it is loaded as."""


def config_sources(config: RegionConfig) -> tuple[Source, ...]:
    """The sources of every file a region file names: layers, 町字 points, roads, timetables,
    projections (one per file; a register by its kind only)."""
    fic = config.fictional
    out = [describe(key, p, fictional=fic) for key, spec in config.layers.items() for p in spec.paths]
    if config.geocoder is not None:
        out += [describe("machiaza", p, fictional=fic) for p in config.geocoder.paths]
    if config.roads is not None:
        out.append(describe("roads", config.roads.path, fictional=fic))
    out += [describe("transit", p, fictional=fic) for p in config.transit]
    out += [describe("projection", p, fictional=fic) for p in config.projection]
    return tuple(out)


def attribution_for(keys: list[str], *, roads: bool = False) -> list[str]:
    """Attribution lines for real data loaded as these layers (in a stable order)."""
    lines = [ATTRIBUTION[k] for k in ATTRIBUTION if k in keys]
    return lines + (["© OpenStreetMap contributors"] if roads else [])


def empty_region(name: str, *, folder: Path, crs: str = "EPSG:6678") -> Region:
    """A new region with no layer yet (started from the app; files are added to it)."""
    cfg = RegionConfig(path=folder / "region.toml", name=name, crs=None, fictional=False, layers={},
                       roads=None)
    return Region(config=cfg, crs=crs, layers={})


def _locate_toml(path: str | Path) -> Path:
    """The TOML file (a folder holding exactly one is accepted), checked to be a regular file."""
    toml = Path(path)
    if not toml.exists():
        raise LayerError(
            "地域設定ファイルが見つかりません。",
            file=toml,
            fix="パスを確認してください。デモ地域は `tomoni demo --out DIR` で作れます。",
        )
    if toml.is_dir():
        cand = sorted(toml.glob("*.toml"))
        if len(cand) != 1:
            raise LayerError(
                "フォルダが指定されましたが、地域設定（.toml）が1つに決まりません。",
                file=toml, fix="TOML ファイルのパスを指定してください。",
            )
        toml = cand[0]
    require_file(toml)  # a regular file of sane size (never a device or a pipe)
    return toml


def _parse_toml(toml: Path) -> tuple[str, dict[str, Any]]:
    """The TOML's text and its parsed tables (UTF-8 only; a syntax error names its line)."""
    raw_bytes = toml.read_bytes()
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LayerError(
            "地域設定ファイルが UTF-8 ではありません。",
            file=toml, fix="UTF-8 で保存し直してください。",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise LayerError(
            "TOML の書き方に誤りがあります。",
            file=toml,
            row=int(m.group(1)) if m else None,
            fix="引用符（\"）の閉じ忘れ、= の抜け、同じ見出しの重複などを確認してください。",
        ) from None
    return text, data


def _region_table(data: dict[str, Any], text: str, toml: Path, warnings: list[str]
                  ) -> tuple[dict[str, Any], str, str | None]:
    """The ``[region]`` table checked: (table, name, analysis CRS or None)."""
    region = data.get("region", {})
    if not isinstance(region, dict):
        raise LayerError("[region] は表（テーブル）で書いてください。", file=toml,
                         column="region", fix='[region] の下に name = "…" を書いてください。')
    for k in region:
        if k not in ("name", "crs", "fictional", "attribution", "municipalities"):
            warnings.append(f"[region] の不明なキー {k} は無視しました。")
    for opt, want, example in (("name", str, 'name = "湖東地域"'), ("fictional", bool, "fictional = false"),
                               ("crs", str, 'crs = "EPSG:6678"')):
        if opt in region and not isinstance(region[opt], want):
            raise LayerError(f"[region] の {opt} の値の種類が違います。", file=toml,
                             row=_line_of(text, rf"^\s*{opt}\s*="), column=f"region.{opt}",
                             fix=f"例: {example}")
    attribution_raw = region.get("attribution", [])
    if not (isinstance(attribution_raw, str) or (isinstance(attribution_raw, list)
                                                 and all(isinstance(a, str) for a in attribution_raw))):
        raise LayerError("[region] の attribution は文字列か文字列の一覧にしてください。", file=toml,
                         column="region.attribution", fix='例: attribution = ["出典：…"]')
    munis = region.get("municipalities", [])
    if not (isinstance(munis, list) and all(isinstance(m, str | int) for m in munis)):
        raise LayerError("[region] の municipalities は市町村コードの一覧にしてください。", file=toml,
                         row=_line_of(text, r"^\s*municipalities\s*="), column="region.municipalities",
                         fix='例: municipalities = ["05201", "05206"]')
    name = str(region.get("name") or toml.stem)
    crs = region.get("crs")
    if crs is not None:
        parsed = parse_crs(crs, file=toml)
        if parsed is None:  # pragma: no cover - parse_crs raises on anything unreadable
            raise LayerError("座標系が読めません。", file=toml, column="region.crs",
                             fix='例: crs = "EPSG:6678"')
        try:
            ensure_metric(parsed)
        except LayerError as err:
            raise err.with_context(config=(toml, _line_of(text, r"^\s*crs\s*="), "region.crs")) from None
        crs = f"EPSG:{parsed.to_epsg()}" if parsed.to_epsg() else parsed.to_string()
    return region, name, crs


def _layer_specs(data: dict[str, Any], text: str, toml: Path, warnings: list[str]
                 ) -> dict[str, LayerSpec]:
    """Every ``[layers.KEY]`` table checked against its loader's options."""
    root = toml.parent
    layers: dict[str, LayerSpec] = {}
    tables = data.get("layers", {})
    if not isinstance(tables, dict):
        raise LayerError("[layers] の書き方が違います。", file=toml, column="layers",
                         fix="[layers.shelters] のように書いてください。")
    for key, table in tables.items():
        line = _line_of(text, rf"\[\s*layers\.{re.escape(key)}\s*\]")
        if key == "transit":  # timetables, not a map layer: RegionConfig.transit
            continue
        if key not in LAYER_KEYS:
            raise LayerError(
                f"不明なレイヤー名です: {key}",
                file=toml, row=line, column=f"layers.{key}",
                fix=f"レイヤー名は次のいずれかです: {', '.join(LAYER_KEYS)}",
            )
        if not isinstance(table, dict) or "path" not in table:
            raise LayerError(
                "レイヤーに path がありません。",
                file=toml, row=line, column=f"layers.{key}.path",
                fix=f'[layers.{key}] の下に path = "ファイル名" を書いてください。',
            )
        accepted = set(inspect.signature(_LOADERS[key]).parameters) - _INTERNAL - {"paths"}
        options: dict[str, Any] = {}
        for opt, value in table.items():
            if opt in _COMMON:
                continue
            if opt not in accepted:
                warnings.append(f"[layers.{key}] の不明なキー {opt} は無視しました。")
                continue
            _check_option(key, opt, value, inspect.signature(_LOADERS[key]).parameters[opt],
                          toml=toml, line=_key_line(text, line, opt))
            options[opt] = value
        layers[key] = LayerSpec(
            key=key,
            paths=_paths(table["path"], root, toml=toml, key=f"layers.{key}",
                         line=_key_line(text, line, "path")),
            fmt=table.get("format"),
            crs=table.get("crs"),
            encoding=table.get("encoding"),
            options=options,
            line=_key_line(text, line, "path"),
        )
    return layers


def _roads_spec(data: dict[str, Any], text: str, toml: Path) -> RoadsSpec | None:
    """The ``[roads]`` table, if any."""
    root = toml.parent
    roads = None
    if "roads" in data:
        t = data["roads"]
        line = _line_of(text, r"\[\s*roads\s*\]")
        if not isinstance(t, dict) or "path" not in t:
            raise LayerError(
                "[roads] に path がありません。", file=toml, row=line, column="roads.path",
                fix='[roads] の下に path = "roads.graphml" を書いてください。',
            )
        (rpath,) = _paths(t["path"], root, toml=toml, key="roads",
                          line=_key_line(text, line, "path"))[:1]
        drive = None
        if t.get("drive"):
            (drive,) = _paths(t["drive"], root, toml=toml, key="roads.drive",
                              line=_key_line(text, line, "drive"))[:1]
        buffer = t.get("buffer", DEFAULT_BUFFER_M)
        if isinstance(buffer, bool) or not isinstance(buffer, int | float) or not 0 <= buffer <= 50_000:
            raise LayerError("[roads] buffer は 0〜50000 の数（メートル）にしてください。", file=toml,
                             row=_key_line(text, line, "buffer"), column="roads.buffer",
                             fix="例: buffer = 3000（市町村界の外 3 km までの道路を使います）")
        roads = RoadsSpec(
            path=rpath, network=str(t.get("network", "walk")), fmt=t.get("format"),
            drive=drive, line=_key_line(text, line, "path"), buffer=float(buffer),
            overpass=str(t["overpass"]) if t.get("overpass") else None,
        )
    return roads


def _geocoder_spec(data: dict[str, Any], text: str, toml: Path) -> GeocoderSpec | None:
    """The ``[geocoder]`` table, if any."""
    if "geocoder" not in data:
        return None
    t = data["geocoder"]
    line = _line_of(text, r"\[\s*geocoder\s*\]")
    if not isinstance(t, dict) or "path" not in t:
        raise LayerError(
            "[geocoder] に path がありません。", file=toml, row=line, column="geocoder.path",
            fix='[geocoder] の下に path = "machiaza/*.json"（町字の参照点のファイル）を書いてください。')
    paths = _paths(t["path"], toml.parent, toml=toml, key="geocoder",
                   line=_key_line(text, line, "path"))
    blocks = (_paths(t["blocks"], toml.parent, toml=toml, key="geocoder.blocks",
                     line=_key_line(text, line, "blocks")) if t.get("blocks") else ())
    return GeocoderSpec(paths=paths, blocks=blocks, line=_key_line(text, line, "path"))


def _check_option(key: str, opt: str, value: Any, param: inspect.Parameter, *, toml: Path,
                  line: int | None) -> None:
    """A ``[layers.KEY]`` option must have the type its loader takes (``k = "five"``,
    ``k = 5.5``, ``mesh = nan`` are errors, not silently converted)."""
    ann = str(param.annotation)
    default = param.default
    ok = True
    if ann.startswith("bool") or isinstance(default, bool):
        ok = isinstance(value, bool)
    elif ann.startswith("int") and "str" not in ann and "float" not in ann:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif ann.startswith("float") and "str" not in ann:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    elif ann.startswith("str") and "Sequence" not in ann and "list" not in ann:
        ok = isinstance(value, str)
    elif "Sequence[str]" in ann or "list[str]" in ann:
        ok = isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    if not ok:
        want = ("true / false" if "bool" in ann else "整数" if ann.startswith("int") else
                "数" if ann.startswith("float") else "文字列（\"…\"）")
        raise LayerError(f"[layers.{key}] の {opt} の値の種類が違います（{want}にしてください）。",
                         file=toml, row=line, column=f"layers.{key}.{opt}",
                         fix=f"例: {opt} = {default!r}" if default not in (None, inspect.Parameter.empty)
                         else f"{opt} の値を確かめてください。")


ProgressFn = Callable[[str, float], None]


def _load_layer(cfg: RegionConfig, key: str, layers: dict[str, gpd.GeoDataFrame],
                analysis_crs: str | None, geocoder: Geocoder | None = None) -> gpd.GeoDataFrame:
    """Read one layer with its loader, giving it what it needs from the layers read before."""
    return _load_layer_and_register(cfg, key, layers, analysis_crs, geocoder)[0]


def _load_layer_and_register(cfg: RegionConfig, key: str, layers: dict[str, gpd.GeoDataFrame],
                             analysis_crs: str | None, geocoder: Geocoder | None = None
                             ) -> tuple[gpd.GeoDataFrame, Demand | None]:
    """:func:`_load_layer`, and for the 要配慮者 layer its register's people (or None)."""
    spec = cfg.layers[key]
    kwargs = dict(spec.options)
    params = inspect.signature(_LOADERS[key]).parameters
    if "boundaries" in params:
        kwargs["boundaries"] = layers.get("boundaries")
    if "analysis_crs" in params:
        kwargs["analysis_crs"] = analysis_crs or (
            analysis_crs_for(list(layers.values())) if layers else None
        )
    if "region_areas" in params:
        kwargs["region_areas"] = {k: v for k, v in layers.items() if k != "vulnerable"}
    if "geocoder" in params:
        kwargs["geocoder"] = geocoder
    loader = _LOADERS[key]
    if key == "vulnerable":
        from layers.vulnerable import load_vulnerable_and_register as loader
    try:
        out = loader(
            list(spec.paths),
            fmt=spec.fmt,
            crs=parse_crs(spec.crs, file=cfg.path),
            encoding=spec.encoding,
            **kwargs,
        )
        return out if key == "vulnerable" else (out, None)
    except LayerError as err:
        raise err.with_context(
            layer=key, config=(cfg.path, spec.line, f"layers.{key}.path")
        ) from None
    except TypeError as exc:
        raise LayerError(
            "設定値の型が違います。",
            file=cfg.path, row=spec.line, column=f"layers.{key}",
            fix="列名などの設定値は文字列（\"…\"）で書いてください。",
        ) from exc


def _check_municipalities(cfg: RegionConfig, boundaries: gpd.GeoDataFrame | None) -> None:
    """Every code in ``[region] municipalities`` must be a municipality of the boundaries
    (a typo would otherwise keep nothing, or everything, without a word)."""
    known = set(boundaries["code"].astype(str)) if boundaries is not None else set()
    unknown = [c for c in cfg.municipalities if c not in known]
    if unknown:
        hint = ", ".join(sorted(known)[:12]) if known else "[layers.boundaries] がありません"
        raise LayerError(f"[region] municipalities に市町村界にないコードがあります（{len(unknown)} 件）。",
                         file=cfg.path, column="region.municipalities",
                         fix=f"市町村界（[layers.boundaries]）のコードを書いてください: {hint}")


def _fill_municipalities(layers: dict[str, gpd.GeoDataFrame], crs: str) -> None:
    """Point layers without a municipality code get the code of the boundary they lie in."""
    for key in FACILITY_KEYS:
        gdf = layers.get(key)
        if gdf is None or not len(gdf):
            continue
        codes = assign_municipality(gdf, layers["boundaries"], crs=crs)
        if "muni_code" in gdf.columns:
            blank = gdf["muni_code"].astype(str) == ""
            gdf.loc[blank, "muni_code"] = codes[blank]
        else:
            gdf["muni_code"] = codes


def municipality_codes(source: str | Path | RegionConfig) -> list[str] | None:
    """The municipality codes of a region, reading its boundaries layer alone (kept to
    ``[region] municipalities`` as :func:`load_region` keeps them); None without one."""
    cfg = source if isinstance(source, RegionConfig) else read_config(source)
    if "boundaries" not in cfg.layers:
        return None
    boundaries = _load_layer(cfg, "boundaries", {}, cfg.crs)
    if cfg.municipalities:
        _check_municipalities(cfg, boundaries)
    codes = boundaries["code"].astype(str).tolist()
    return [c for c in codes if c in cfg.municipalities] if cfg.municipalities else codes


def load_region(
    source: str | Path | RegionConfig,
    *,
    with_roads: bool = True,
    progress: ProgressFn | None = None,
) -> Region:
    """Load every layer of a region (and its roads) into memory.

    Parameters
    ----------
    source
        A region TOML path or an already parsed :class:`RegionConfig`.
    with_roads
        Load the road graph too (it is the slowest part).
    progress
        Called with (message, fraction done) for progress bars.

    Raises
    ------
    LayerError
        For the first problem found, naming the file, row and column.
    """
    cfg = source if isinstance(source, RegionConfig) else read_config(source)
    say = progress or (lambda _message, _done: None)
    steps = len(cfg.layers) + (1 if (with_roads and cfg.roads) else 0)
    layers, warnings, analysis_crs, geocoder, demand = _load_layers(cfg, say, steps)
    if cfg.municipalities:
        _check_municipalities(cfg, layers.get("boundaries"))
    if "boundaries" in layers:
        _fill_municipalities(layers, analysis_crs)
        if cfg.municipalities:  # a prefecture-wide file kept to the region's municipalities
            layers = keep_municipalities(layers, cfg.municipalities)
            if demand is not None:
                demand = demand.within(layers["boundaries"])
    roads = None
    if with_roads and cfg.roads is not None:
        say("道路ネットワークを読み込み中", (steps - 1) / max(steps, 1))
        roads = _load_region_roads(cfg, layers.get("boundaries"), analysis_crs)
        warnings["roads"] = []
    say("読み込み完了", 1.0)
    if geocoder is None and cfg.geocoder is not None:
        geocoder = _geocoder(cfg.geocoder, cfg.path, layers.get("boundaries"))
    return Region(config=cfg, crs=analysis_crs, layers=layers, roads=roads, warnings=warnings,
                  geocoder=geocoder, demand=demand)


def _load_layers(cfg: RegionConfig, say: ProgressFn, steps: int
                 ) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, list[str]], str, Geocoder | None,
                            Demand | None]:
    """Every layer of ``cfg``, boundaries first (they decide the CRS and the geocoder's
    outline) and the register last; their warnings; the analysis CRS; the geocoder; the
    register's people."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    warnings: dict[str, list[str]] = {"region": list(cfg.warnings)} if cfg.warnings else {}
    order = sorted(cfg.layers, key=lambda k: (k not in ("boundaries",), k == "vulnerable",
                                              LAYER_KEYS.index(k)))
    analysis_crs = cfg.crs
    geocoder = None
    demand = None
    for i, key in enumerate(order):
        say(f"{LAYER_LABELS[key]}を読み込み中", i / max(steps, 1))
        if geocoder is None and cfg.geocoder is not None and key != "boundaries":
            geocoder = _geocoder(cfg.geocoder, cfg.path, layers.get("boundaries"))
        gdf, found = _load_layer_and_register(cfg, key, layers, analysis_crs, geocoder)
        demand = found or demand
        layers[key] = gdf
        warnings[key] = warnings_of(gdf)
        if key == "boundaries" and analysis_crs is None:
            analysis_crs = analysis_crs_for([gdf])
    return layers, warnings, analysis_crs or analysis_crs_for(list(layers.values())), geocoder, demand


def _load_region_roads(cfg: RegionConfig, boundaries: gpd.GeoDataFrame | None = None,
                       crs: str | None = None) -> nx.MultiDiGraph:
    """The region's road file as a graph (an OSM extract kept to the boundaries grown by
    ``[roads] buffer``), its errors naming the region file's line."""
    if cfg.roads is None:
        raise LayerError("道路の設定がありません。", file=cfg.path, column="roads.path",
                         fix='[roads] path = "道路.graphml" を書いてください。')
    try:
        clip = cfg.roads.clip(boundaries, crs) if crs else None
        return load_roads(cfg.roads.path, network=cfg.roads.network, fmt=cfg.roads.fmt, clip=clip)
    except LayerError as err:
        raise err.with_context(layer="roads", config=(cfg.path, cfg.roads.line, "roads.path")) from None


def _geocoder(spec: GeocoderSpec, toml: Path, boundaries: gpd.GeoDataFrame | None) -> Geocoder:
    """The region's geocoder from its ``[geocoder]`` files (boundaries flag points outside)."""
    from layers.geocode import load_geocoder

    try:
        return load_geocoder(spec.paths, blocks=spec.blocks, boundaries=boundaries)
    except LayerError as err:
        raise err.with_context(layer="geocoder", config=(toml, spec.line, "geocoder.path")) from None
