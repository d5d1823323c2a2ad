"""A region's public base layers fetched from their publishers, once, for one municipality.

``tomoni init`` and the データ page's 「公開データを取得」 fetch, for a municipality of a
prefecture, each from its publisher's own download layout:

* the 市町村 boundary — 国土数値情報 N03 (``{ksj}/N03/N03-{year}/N03-{year}0101_{pref}_GML.zip``,
  its GeoJSON member), kept to the municipality;
* the GSI 指定緊急避難場所 / 指定避難所 — the nationwide merged CSVs
  (``{gsi}/csv/mergeFromCity_2.csv`` / ``mergeFromCity_1.csv``) kept to the municipality's rows,
  dated by the GSI's list of update dates (``{gsi}/publicHistoryCSV/publicHistoryListData.csv``);
* the 町字 reference points — Geolonia japanese-addresses
  (``{addresses}/{都道府県}/{郡市町村}.json``).

Each file is stored in the region folder with a sidecar (:func:`layers.provenance.write_sidecar`:
URL, retrieval date, data date) and a ``region.toml`` naming them is written.  A file already
there is reused, so the region works offline afterwards.  The base URLs are
:data:`DEFAULT_URLS`, each replaceable by an environment variable (:data:`URL_ENV`); the tests
serve the real files from a stand-in server on 127.0.0.1.  Downloads are streamed with a size
cap, and a zip's members are checked before one is read.

A prefecture's N03 zip and the GSI's nationwide files are the same for every municipality:
they are kept once in the cache folder (``downloads/``, with their URL and retrieval date) and
reused by the next municipality fetched within :data:`SHARED_FRESH_DAYS`; an older copy is
downloaded again, and still used, with a warning naming its date, when the publisher cannot
be reached.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from layers.atomic import atomic_write_bytes, atomic_write_text
from layers.errors import LayerError
from layers.provenance import write_sidecar

__all__ = ["DEFAULT_PREFECTURE", "DEFAULT_URLS", "PREFECTURES", "URL_ENV", "Fetched", "base_urls",
           "fetch_region"]

log = logging.getLogger(__name__)

DEFAULT_URLS = {
    "ksj": "https://nlftp.mlit.go.jp/ksj/gml/data",
    "gsi": "https://hinanmap.gsi.go.jp/hinanjocp/defaultFtpData",
    "addresses": "https://geolonia.github.io/japanese-addresses/api/ja",
}
"""Where each publisher keeps its files (as of 2026)."""
URL_ENV = {"ksj": "TOMONI_KSJ_URL", "gsi": "TOMONI_GSI_URL", "addresses": "TOMONI_ADDRESSES_URL"}
N03_YEAR = 2024
"""The N03 edition fetched (``TOMONI_N03_YEAR`` or ``tomoni init --n03-year`` for another)."""
MAX_BYTES = 400 * 2**20
"""Largest download accepted (GSI's nationwide CSVs are about 17 MB; N03 of a prefecture tens)."""
TIMEOUT_S = 120
SHARED_FRESH_DAYS = 7
"""A kept prefecture- or nation-wide download younger than this is reused without asking the
publisher (the GSI updates its lists every few days; N03 once a year)."""

PREFECTURES = ("北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
               "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
               "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
               "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
               "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
               "鹿児島県", "沖縄県")
"""The 47 prefectures in JIS order (code = position + 1, two digits)."""
DEFAULT_PREFECTURE = "秋田県"
"""The prefecture the app's fetch form starts on (the councils tomoni-map is made with)."""

OFFLINE_FIX = ("インターネットに接続できないときは、国土数値情報の N03、国土地理院の避難所 CSV、"
               "町字の JSON を入手して、データのページで追加してください。")


def base_urls(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The base URL of each publisher: ``overrides``, else its environment variable, else the default."""
    return {k: ((overrides or {}).get(k) or os.environ.get(URL_ENV[k]) or v).rstrip("/")
            for k, v in DEFAULT_URLS.items()}


@dataclass
class Fetched:
    """What :func:`fetch_region` stored: the region file and, per file, whether it was reused."""

    toml: Path
    code: str
    name: str
    files: dict[str, Path] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)


def _get(url: str) -> bytes:
    """The bytes at ``url``, at most :data:`MAX_BYTES` (an error naming the URL otherwise)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "tomoni-map"}),
                                    timeout=TIMEOUT_S) as res:
            out = bytearray()
            for block in iter(lambda: res.read(1 << 20), b""):
                out += block
                if len(out) > MAX_BYTES:
                    raise LayerError("ダウンロードするファイルが大きすぎます。", file=url,
                                     fix=f"URL の設定（{', '.join(URL_ENV.values())}）を確かめてください。")
            return bytes(out)
    except urllib.error.HTTPError as exc:
        raise LayerError(f"公開データが見つかりません（HTTP {exc.code}）。", file=url,
                         fix="都道府県・市町村の名前と、公開元の URL の設定を確かめてください。") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        raise LayerError("公開データをダウンロードできません。", file=url, fix=OFFLINE_FIX) from exc


def _get_shared(url: str, dataset: str) -> tuple[bytes, dt.date]:
    """The bytes at ``url`` (a file every municipality shares) and the day they were retrieved:
    kept in the cache folder and reused while fresh; a stale copy stands in when the publisher
    cannot be reached."""
    import hashlib

    from layers.cache import cache_folder, keep_within_limit
    from layers.provenance import read_sidecar

    folder = cache_folder() / "downloads"
    data_path = folder / f"{hashlib.sha256(url.encode('utf-8')).hexdigest()[:24]}.bin"
    kept: tuple[bytes, dt.date] | None = None
    try:
        meta = read_sidecar(data_path)  # the same record of source and date as a region's files
        if meta.get("url") == url:
            kept = data_path.read_bytes(), dt.date.fromisoformat(meta["retrieved"])
    except (OSError, ValueError, KeyError):
        kept = None  # none kept (or a damaged record): downloaded again
    if kept is not None and (dt.date.today() - kept[1]).days < SHARED_FRESH_DAYS:
        log.info("reusing %s retrieved %s", url, kept[1])
        return kept
    try:
        data = _get(url)
    except LayerError:
        if kept is None:
            raise
        log.warning("%s cannot be reached: using the copy retrieved %s", url, kept[1])
        return kept
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _store(data_path, data, dataset=dataset, url=url, data_date="")
        keep_within_limit()
    except OSError as exc:  # a cache folder that cannot be written: the next fetch downloads again
        log.warning("the download could not be kept in %s: %s", folder, exc.strerror or exc)
    return data, dt.date.today()


def _pref(pref: str) -> tuple[str, str]:
    """(two-digit code, name) of a prefecture given by either."""
    p = pref.strip()
    if p.isdigit() and 1 <= int(p) <= 47:
        return f"{int(p):02d}", PREFECTURES[int(p) - 1]
    for i, name in enumerate(PREFECTURES):
        if p in (name, name[:-1]) and p:
            return f"{i + 1:02d}", name
    raise LayerError(f"都道府県が分かりません: {pref[:20]}", column="pref", fix="例: 秋田県 または 05")


def _n03(urls: dict[str, str], pref_code: str, year: int) -> tuple[str, str, bytes, dt.date]:
    """(URL, GeoJSON member name, its bytes, the day retrieved) of a prefecture's N03."""
    url = f"{urls['ksj']}/N03/N03-{year}/N03-{year}0101_{pref_code}_GML.zip"
    raw, retrieved = _get_shared(url, "n03")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            members = [i for i in z.infolist() if i.filename.lower().endswith(".geojson")]
            if not members:
                raise LayerError("N03 の zip に GeoJSON がありません。", file=url, fix=OFFLINE_FIX)
            m = members[0]
            if m.file_size > MAX_BYTES or m.file_size > 200 * max(len(raw), 1 << 20):
                raise LayerError("N03 の zip を展開すると大きすぎます。", file=url, fix=OFFLINE_FIX)
            return url, Path(m.filename).name, z.read(m), retrieved
    except zipfile.BadZipFile as exc:
        raise LayerError("N03 の zip が壊れています。", file=url, fix=OFFLINE_FIX) from exc


def _municipality(n03: gpd.GeoDataFrame, muni: str, url: str) -> gpd.GeoDataFrame:
    """The N03 rows of ``muni`` (a name, with or without its 郡, or a 5-digit code)."""
    m = muni.strip()
    gun = n03.get("N03_003")
    full = (gun.fillna("").astype(str) if gun is not None else "") + n03["N03_004"].fillna("").astype(str)
    hit = n03[(n03["N03_007"].astype(str) == m) | (n03["N03_004"].astype(str) == m) | (full == m)]
    if not len(hit):
        names = sorted(set(n03["N03_004"].dropna().astype(str)))
        raise LayerError(f"N03 に市町村「{m[:20]}」がありません。", file=url, column="N03_004",
                         fix=f"次のいずれか: {'、'.join(names[:30])}")
    codes = sorted(set(hit["N03_007"].astype(str)))
    if len(codes) > 1:
        raise LayerError(f"「{m[:20]}」に当たる市町村が {len(codes)} あります（{'、'.join(codes)}）。",
                         file=url, fix="5桁の市町村コードで指定してください。")
    return hit


def _gsi_rows(raw: bytes, place: str, url: str) -> bytes:
    """The rows of one municipality (「都道府県名及び市町村名」 == ``place``) of a GSI merged
    CSV, as UTF-8 with BOM (the header kept)."""
    from layers.readers import decode_text

    text = decode_text(raw, file=Path(urllib.parse.urlparse(url).path))
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or "都道府県名及び市町村名" not in rows[0]:
        raise LayerError("国土地理院の避難所 CSV の形ではありません（都道府県名及び市町村名 の列がない）。",
                         file=url, fix=OFFLINE_FIX)
    col = rows[0].index("都道府県名及び市町村名")
    keep = [r for r in rows[1:] if len(r) > col and r[col].replace(" ", "") == place]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([rows[0], *keep])
    return out.getvalue().encode("utf-8-sig")


def _gsi_date(urls: dict[str, str], code: str) -> str:
    """The GSI's データ更新日 of a municipality (its update list), or '' when unknown."""
    from layers.readers import decode_text

    url = f"{urls['gsi']}/publicHistoryCSV/publicHistoryListData.csv"
    try:
        text = decode_text(_get_shared(url, "gsi_shelters")[0], file=Path("publicHistoryListData.csv"))
    except LayerError:
        return ""
    for row in csv.reader(io.StringIO(text)):
        if row and row[0].strip() in (code, code + _check_digit(code)) and len(row) >= 4:
            return row[3].strip().replace("/", "-")[:10]
    return ""


def _check_digit(code: str) -> str:
    """The 6th digit of a 全国地方公共団体コード."""
    total = sum(int(d) * w for d, w in zip(code, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


def _store(path: Path, data: bytes, *, dataset: str, url: str, data_date: str,
           retrieved: dt.date | None = None) -> Path:
    atomic_write_bytes(path, data)
    write_sidecar(path, dataset=dataset, url=url, data_date=data_date, retrieved=retrieved or dt.date.today())
    return path


def fetch_region(pref: str, municipality: str, out: Path, *, urls: dict[str, str] | None = None,
                 year: int | None = None, name: str | None = None) -> Fetched:
    """Fetch the base layers of ``municipality`` (a name or a 5-digit code) of ``pref`` into
    ``out`` and write ``out/region.toml`` (see module doc).  Files already in ``out`` with
    their sidecars are reused (nothing is downloaded again)."""
    u = base_urls(urls)
    year = year or int(os.environ.get("TOMONI_N03_YEAR") or N03_YEAR)
    pref_code, pref_name = _pref(pref)
    out.mkdir(parents=True, exist_ok=True)
    done: list[str] = []
    existing = sorted(out.glob("N03-*.geojson"))
    if existing and (out / "region.toml").is_file():
        boundary = existing[0]
        done.append(boundary.name)
        n03 = gpd.read_file(boundary)
    else:
        url, member, data, got = _n03(u, pref_code, year)
        every = gpd.read_file(io.BytesIO(data))
        n03 = _municipality(every, municipality, url)
        boundary = out / f"{Path(member).stem}_{n03['N03_007'].iloc[0]}.geojson"
        _store(boundary, n03.to_json(ensure_ascii=False).encode("utf-8"), dataset="n03", url=url,
               data_date="", retrieved=got)
    code = str(n03["N03_007"].iloc[0])
    muni = str(n03["N03_004"].iloc[0])
    gun = str(n03["N03_003"].iloc[0]) if "N03_003" in n03 and n03["N03_003"].notna().any() else ""
    files = {"boundaries": boundary}
    gsi_date = ""
    for kind, number in (("emergency_sites", 2), ("evacuation_shelters", 1)):
        path = out / f"gsi_{kind}_{code}.csv"
        if path.is_file():
            done.append(path.name)
        else:
            url = f"{u['gsi']}/csv/mergeFromCity_{number}.csv"
            gsi_date = gsi_date or _gsi_date(u, code)
            raw, got = _get_shared(url, "gsi_shelters")
            _store(path, _gsi_rows(raw, pref_name + muni, url), dataset="gsi_shelters", url=url,
                   data_date=gsi_date, retrieved=got)
        files[kind] = path
    towns = out / f"{gun}{muni}.json"
    if towns.is_file():
        done.append(towns.name)
    else:
        url = f"{u['addresses']}/{urllib.parse.quote(pref_name)}/{urllib.parse.quote(gun + muni)}.json"
        _store(towns, _get(url), dataset="machiaza", url=url, data_date="")
    files["machiaza"] = towns
    toml = _write_toml(out, name or muni, code, files)
    log.info("fetched %s %s into %s (reused %d files)", pref_name, muni, out, len(done))
    return Fetched(toml=toml, code=code, name=muni, files=files, reused=done)


def _write_toml(out: Path, name: str, code: str, files: dict[str, Path]) -> Path:
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["# ともにマップ 地域設定（tomoni init: 公開データを取得して作成）", "[region]",
             f"name = {q(name)}", f"municipalities = [{q(code)}]", "", "[layers.boundaries]",
             f"path = {q(files['boundaries'].name)}", 'code = "N03_007"', 'name = "N03_004"', "",
             "[layers.shelters]",
             f"path = [{q(files['emergency_sites'].name)}, {q(files['evacuation_shelters'].name)}]", "",
             "[geocoder]", f"path = {q(files['machiaza'].name)}"]
    return atomic_write_text(out / "region.toml", "\n".join(lines) + "\n")
