"""Where each layer of a region comes from: publisher, the data's own date, licence, credit.

One :class:`Source` per file a region reads (its layers, 町字 reference points, roads,
timetables, projections) — what the データ page lists, what a report's cover and method
page cite and what every map credits.  The facts of each public dataset live in
:data:`DATASETS`, the one place they are written:

* a file is recognised by the layer it is loaded as and by what it holds (N03's
  ``N03_00x`` columns, the GSI CSV's 共通ID header, Geolonia's ``town``/``koaza`` points,
  an OSM extract, a GTFS feed);
* the data's own date is read where the format carries one — N03's date in its file name
  (``N03-21_05_210101`` → 2021-01-01), an OSM PBF header's replication timestamp, a GTFS
  feed's ``feed_info`` dates, a date in a GSI file's name — and otherwise left unknown
  (never the day the file was copied);
* a file fetched by ``tomoni init`` (or the データ page) has a sidecar
  ``<file>.source.json`` (:func:`write_sidecar`) with its URL and retrieval date;
* anything else is the user's own file, credited as such.

Nothing here reads a 要配慮者 record: a register is described by its layer kind alone.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

__all__ = ["DATASETS", "Dataset", "Source", "credits", "date_text", "describe", "read_sidecar", "sidecar_of",
           "source_table", "write_sidecar"]

SIDECAR_SUFFIX = ".source.json"
SNIFF_BYTES = 65_536
"""Bytes read from the head of a file to recognise it (never the whole file)."""


KSJ_LICENCE = "CC BY 4.0 互換（国土数値情報利用約款）"


@dataclass(frozen=True)
class Dataset:
    """A public dataset: who publishes it, under which licence, how it must be credited."""

    key: str
    name: str
    publisher: str
    licence: str
    credit: str
    url: str = ""


DATASETS: dict[str, Dataset] = {d.key: d for d in (
    Dataset("n03", "行政区域データ（N03）", "国土交通省 国土数値情報", KSJ_LICENCE,
            "「国土数値情報（行政区域データ）」（国土交通省）を加工して作成",
            "https://nlftp.mlit.go.jp/ksj/gml/datalist/KsjTmplt-N03-2024.html"),
    Dataset("gsi_shelters", "指定緊急避難場所・指定避難所データ", "国土地理院",
            "国土地理院コンテンツ利用規約（CC BY 4.0 互換）",
            "出典：国土地理院「指定緊急避難場所・指定避難所データ」を加工",
            "https://www.gsi.go.jp/bousaichiri/hinanbasho.html"),
    Dataset("a27", "小学校区データ（A27）", "国土交通省 国土数値情報", KSJ_LICENCE,
            "「国土数値情報（小学校区データ）」（国土交通省）を加工して作成"),
    Dataset("mesh_projection", "500mメッシュ別将来推計人口（令和6年国政局推計）", "国土交通省 国土数値情報",
            KSJ_LICENCE,
            "「国土数値情報（500mメッシュ別将来推計人口データ）」（国土交通省）を加工して作成"),
    Dataset("machiaza", "町字の代表点（大字・町丁目）", "Geolonia（国土交通省 位置参照情報をもとに作成）",
            "CC BY 4.0", "町字の代表点: © Geolonia（CC BY 4.0）、国土交通省 位置参照情報をもとに作成",
            "https://github.com/geolonia/japanese-addresses"),
    Dataset("osm", "OpenStreetMap の道路", "OpenStreetMap contributors", "ODbL 1.0",
            "© OpenStreetMap contributors", "https://www.openstreetmap.org/copyright"),
    Dataset("gtfs", "GTFS-JP 時刻表", "各事業者", "提供元の利用条件", "時刻表: {publisher}（GTFS-JP）"),
    Dataset("user", "利用者のファイル", "利用者", "利用者の判断", ""),
    Dataset("demo", "架空データ（デモ地域）", "ともにマップ", "—", "架空データ（ともにマップのデモ地域）"),
)}
"""Every public dataset tomoni-map reads, by key."""


@dataclass(frozen=True)
class Source:
    """One file of a region and where it comes from (see module doc)."""

    layer: str
    """The layer key, or ``machiaza`` / ``roads`` / ``transit`` / ``projection``."""
    file: str
    """The file's name (never a full path: a report travels)."""
    dataset: str
    """A key of :data:`DATASETS`."""
    data_date: str = ""
    """The data's own date (``2021-01-01``, ``2025-10``, ``2021``); empty when the file carries none."""
    retrieved: str = ""
    """When it was fetched (``tomoni init``); empty for a file the user brought."""
    url: str = ""
    publisher_override: str = ""

    @property
    def facts(self) -> Dataset:
        return DATASETS[self.dataset]

    @property
    def user(self) -> bool:
        return self.dataset == "user"

    @property
    def publisher(self) -> str:
        return self.publisher_override or self.facts.publisher

    @property
    def credit(self) -> str:
        """The credit line with the data's date (what maps and reports print)."""
        base = self.facts.credit.format(publisher=self.publisher)
        if not base:
            return ""
        return f"{base}（{date_text(self.data_date)}）" if self.data_date else base

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "publisher": self.publisher, "licence": self.facts.licence,
                "credit": self.credit, "name": self.facts.name}


def date_text(iso: str) -> str:
    """``2021`` → 2021年, ``2025-10`` → 2025年10月, ``2021-01-01`` → 2021年1月1日 (a span of two
    dates each so)."""
    def one(part: str) -> str:
        bits = [int(b) for b in part.split("-") if b.isdigit()]
        return "".join(f"{v}{u}" for v, u in zip(bits, ("年", "月", "日"), strict=False)) or part

    return "〜".join(one(p) for p in iso.split("〜"))


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_sidecar(path: Path, *, dataset: str, url: str, data_date: str = "",
                  retrieved: dt.date | None = None) -> Path:
    """Record beside a fetched file where it came from and when (atomically)."""
    from layers.atomic import atomic_write_text

    doc = {"dataset": dataset, "url": url, "data_date": data_date,
           "retrieved": (retrieved or dt.date.today()).isoformat()}
    return atomic_write_text(sidecar_of(path), json.dumps(doc, ensure_ascii=False, indent=1))


def read_sidecar(path: Path) -> dict[str, str]:
    """What :func:`write_sidecar` recorded beside ``path`` (empty when none, or damaged)."""
    side = sidecar_of(path)
    try:
        doc = json.loads(side.read_text("utf-8")) if side.is_file() and side.stat().st_size < 65_536 else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("dataset") not in DATASETS:
        return {}
    return {k: str(v) for k, v in doc.items() if k in ("dataset", "url", "data_date", "retrieved")}


def _head(path: Path | None, data: bytes | None) -> str:
    raw = data[:SNIFF_BYTES] if data is not None else b""
    if data is None and path is not None and path.is_file():
        with path.open("rb") as f:
            raw = f.read(SNIFF_BYTES)
    for enc in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def _n03_date(name: str) -> str:
    """N03's date from its file name: ``N03-21_05_210101`` / ``N03-20240101_05`` → ISO date;
    else a 20xx year in the name."""
    m = re.search(r"N03-(?:\d{2}_\d{2}_)?(\d{2})(\d{2})(\d{2})(?!\d)", name, re.I)
    if m:
        return f"20{m.group(1)}-{m.group(2)}-{m.group(3)}"
    m = re.search(r"N03-(20\d{2})(\d{2})(\d{2})", name, re.I)
    if m:
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    return _year(name)


def _year(name: str) -> str:
    m = re.search(r"(?<!\d)(20\d{2})(?:[-_]?(0[1-9]|1[0-2]))?(?:[-_]?([0-3]\d))?(?!\d)", name)
    if not m:
        return ""
    return "-".join(g for g in m.groups() if g)


def _pbf_date(path: Path | None) -> str:
    if path is None or not path.is_file() or not path.name.endswith(".pbf"):
        return ""
    try:
        import osmium

        header = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING).header()
        stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp")
    except Exception:  # a header it cannot read: no date, the reader says the rest
        return ""
    return str(stamp)[:10] if stamp else ""


def _feed_info(path: Path | None, data: bytes | None) -> tuple[str, str]:
    """(publisher, "start–end") from a GTFS feed's feed_info.txt, when it has one."""
    import io

    try:
        if data is not None:
            z = zipfile.ZipFile(io.BytesIO(data))
            text = z.read("feed_info.txt").decode("utf-8-sig") if "feed_info.txt" in z.namelist() else ""
        elif path is not None and path.is_dir():
            f = path / "feed_info.txt"
            text = f.read_text("utf-8-sig") if f.is_file() else ""
        elif path is not None and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
                text = z.read("feed_info.txt").decode("utf-8-sig") if "feed_info.txt" in names else ""
        else:
            text = ""
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return "", ""
    lines = [ln.split(",") for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return "", ""
    row = dict(zip([c.strip() for c in lines[0]], [c.strip().strip('"') for c in lines[1]], strict=False))

    def iso(v: str) -> str:
        return f"{v[:4]}-{v[4:6]}-{v[6:8]}" if re.fullmatch(r"\d{8}", v or "") else ""

    span = "〜".join(x for x in (iso(row.get("feed_start_date", "")), iso(row.get("feed_end_date", ""))) if x)
    return row.get("feed_publisher_name", ""), span


def _recognise(layer: str, name: str, head: str) -> str:
    """The dataset key a file of ``layer`` holds, from its name and head."""
    if layer in ("roads", "osm"):
        return "osm"
    if layer == "transit":
        return "gtfs"
    if layer == "machiaza" or (re.search(r'"town"\s*:', head) and re.search(r'"(lng|lat)"\s*:', head)):
        return "machiaza"
    if layer == "projection" or re.search(r"PTN_20\d\d", head):
        return "mesh_projection"
    if "N03_00" in head:
        return "n03"
    if "A27_00" in head:
        return "a27"
    if layer == "shelters" and ("共通ID" in head or "施設・場所名" in head or "指定緊急避難場所" in head):
        return "gsi_shelters"
    return "user"


def describe(layer: str, path: Path | str, *, data: bytes | None = None, fictional: bool = False) -> Source:
    """The :class:`Source` of one file loaded as ``layer`` (``path`` a file on disk, or the
    name of an upload whose bytes are ``data``)."""
    p = Path(path)
    on_disk = p if data is None and p.exists() else None
    side = read_sidecar(p) if on_disk is not None else {}
    if fictional:
        return Source(layer=layer, file=p.name, dataset="demo")
    if layer == "vulnerable":  # a register: its layer kind only, nothing read from it
        return Source(layer=layer, file=p.name, dataset="user")
    key = side.get("dataset") or _recognise(layer, p.name, _head(on_disk, data) if layer != "transit" else "")
    date = side.get("data_date", "")
    publisher = ""
    if not date and key == "n03":
        date = _n03_date(p.name)
    elif not date and key == "osm":
        date = _pbf_date(on_disk)
    elif key == "gtfs":
        publisher, span = _feed_info(on_disk, data)
        date = date or span
    elif not date and key == "gsi_shelters":
        date = _year(p.name)
    return Source(layer=layer, file=p.name, dataset=key, data_date=date, retrieved=side.get("retrieved", ""),
                  url=side.get("url", ""), publisher_override=publisher)


def credits(sources: list[Source] | tuple[Source, ...]) -> list[str]:
    """The credit lines of these sources, each once, in order (a user's own file has none)."""
    return list(dict.fromkeys(s.credit for s in sources if s.credit))


REGISTER_FILE = "（名簿：匿名化して密度のみ使用）"
"""What a table says of a register's file: only its anonymised density is used."""


def source_table(sources: list[Source] | tuple[Source, ...], labels: dict[str, str]) -> list[dict[str, str]]:
    """Rows for a person: レイヤー, ファイル, 提供元, データの日付, 取得日, ライセンス (``labels``
    names the layer keys).  Files of one layer with the same source and dates are one row
    (「潟上市.json ほか 24 ファイル」)."""
    groups: dict[tuple[str, ...], list[Source]] = {}
    for s in sources:
        groups.setdefault((s.layer, s.dataset, s.publisher, s.data_date, s.retrieved), []).append(s)
    rows = []
    for (layer, _d, _p, date, retrieved), members in groups.items():
        s = members[0]
        name = s.file if len(members) == 1 else f"{s.file} ほか {len(members) - 1} ファイル"
        rows.append({"レイヤー": labels.get(layer, layer),
                     "ファイル": REGISTER_FILE if layer == "vulnerable" else name,
                     "提供元": s.publisher if not s.user else "利用者のファイル",
                     "データの日付": date_text(date) if date else ("—" if s.user else "ファイルに記載なし"),
                     "取得日": retrieved or "—", "ライセンス": s.facts.licence})
    return rows


def with_retrieved(source: Source, day: dt.date) -> Source:
    return replace(source, retrieved=day.isoformat())
