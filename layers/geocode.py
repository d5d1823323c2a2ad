"""Offline address geocoding on the 町字/小字 reference points (no network, no dictionary).

A 社協's lists carry addresses, not coordinates.  This module places them on the
reference points every prefecture publishes in the same layout — the 大字・町丁目
and 小字 representative points (``[{town, koaza, lat, lng}]``, one JSON file per
municipality named ``[郡]市町村名.json``, as in Geolonia's japanese-addresses) and,
optionally, MLIT 位置参照情報 街区レベル CSV for block-level points.

Matching is hierarchical — 市町村 (from the address, or from a 市町村 column) →
大字/町丁目 → 小字 → 街区 — on text normalised both sides (:func:`fold`): NFKC,
漢数字 ⇄ digits for 丁目, ケ/ヶ/が, の/ノ, common 異体字, 大字/字 present or absent,
郡 and 都道府県 omitted, 地割, hyphen and 番地/番/号 forms, building names after
the number.  Each address gets a point, its **match level** (``街区``, ``小字``,
``町字``, ``市町村`` or ``""`` when unplaced), the unmatched remainder and a warning
when the result is doubtful (a 小字 point far from its 大字, a point outside the
municipality, a name part that was not found).

The accuracy benchmark (``benchmarks/bench_geocode.py``) uses the real GSI shelter
addresses of Akita against their own coordinates; those files are never used here.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.errors import LayerError

__all__ = ["LEVELS", "NO_REFERENCE_FIX", "Geocoder", "Match", "fold", "geocoder_with", "load_geocoder",
           "read_reference", "reference_from_bytes"]

log = logging.getLogger(__name__)

LEVELS = ("街区", "小字", "町字", "市町村")
"""Match levels, finest first; ``""`` = not placed."""
FAR_KOAZA_M = 3000.0
"""A 小字 point farther than this from its 大字's point is flagged (a reference slip)."""
OUTSIDE_TOLERANCE_M = 200.0
NEARBY_M = 4000.0
"""A 小字 missing under its 大字 is looked for under other 大字 this close (names filed
under a neighbour, or a 小字 that is also a 大字 name)."""

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県")

VARIANTS = str.maketrans({
    # 異体字 seen in 町字 names and in what people type (one form each)
    "渕": "淵", "齋": "斎", "齊": "斎", "斉": "斎", "邊": "辺", "邉": "辺", "嶋": "島", "嶌": "島",
    "﨑": "崎", "嵜": "崎", "碕": "崎", "髙": "高", "濱": "浜", "濵": "浜", "澤": "沢", "廣": "広",
    "瀧": "滝", "龍": "竜", "櫻": "桜", "國": "国", "舘": "館", "藪": "薮", "冨": "富", "槇": "槙",
    "萬": "万", "壽": "寿", "實": "実", "與": "与", "條": "条", "塚": "塚", "淺": "浅", "將": "将",
    "驛": "駅", "檜": "桧", "籠": "篭", "鷆": "鷏", "埜": "野", "舩": "船", "嶽": "岳", "峯": "峰",
    "栁": "柳", "鐵": "鉄", "惠": "恵", "曽": "曾", "禮": "礼", "眞": "真", "靜": "静", "徳": "徳",
    # kana that addresses write either way
    "ヶ": "ケ", "ｹ": "ケ", "が": "ケ", "个": "ケ", "ヵ": "ケ", "の": "ノ", "之": "ノ",
    # dashes between numbers (the long-vowel mark is handled only next to digits)
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "－": "-",
})
_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
                 "九": 9}
_CHOME = re.compile(r"([〇一二三四五六七八九十百]+)(丁目|地割)")
_NUMBER_DASH = re.compile(r"(?<=\d)[ーｰ](?=\d)")
_BLOCK_WORDS = re.compile(r"(\d+)(?:番地|番|号|地割)?")
_LEADING_AZA = re.compile(r"^(大字|字|小字)")
_DIGITS = re.compile(r"\d+")
_CHOME_DIGITS = re.compile(r"(\D+?)(\d+)(丁目)?")


def kanji_number(text: str) -> int:
    """漢数字 → int (up to 999): 十二 = 12, 二十 = 20, 百五 = 105, 一〇 = 10."""
    if all(c in _KANJI_DIGITS for c in text):
        return int("".join(str(_KANJI_DIGITS[c]) for c in text))
    total, digit = 0, 0
    for c in text:
        if c in _KANJI_DIGITS:
            digit = _KANJI_DIGITS[c]
        else:
            total += (digit or 1) * (100 if c == "百" else 10)
            digit = 0
    return total + digit


def fold(text: str) -> str:
    """One written form of a name or address for matching (both sides are folded).

    NFKC (full-width digits and letters), no spaces, :data:`VARIANTS` (異体字, ケ/ヶ/が,
    の/ノ/之, dashes), 漢数字 before 丁目/地割 as digits, ``第N地割`` as ``N地割`` and
    a long-vowel mark between digits as a dash.
    """
    s = unicodedata.normalize("NFKC", text or "")
    s = "".join(s.split()).translate(VARIANTS)
    s = _CHOME.sub(lambda m: f"{kanji_number(m.group(1))}{m.group(2)}", s)
    s = s.replace("第", "") if "地割" in s else s
    return _NUMBER_DASH.sub("-", s)


def _key(name: str) -> str:
    """A 町字/小字 name as matched: folded, a leading 大字/字 dropped."""
    return _LEADING_AZA.sub("", fold(name))


@dataclass
class _Town:
    name: str
    lat: float
    lon: float
    koaza: dict[str, tuple[str, float, float]] = field(default_factory=dict)
    koaza_len: int = 0
    blocks: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)


@dataclass
class _Municipality:
    name: str
    lat: float
    lon: float
    towns: dict[str, _Town]
    town_len: int
    koaza_index: dict[str, list[str]]
    """小字 key → town keys having it (for addresses that omit the 大字)."""


def _as_float(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def _municipality(name: str, rows: Iterable[dict[str, object]]) -> _Municipality:
    """Index one municipality's reference points (points without coordinates skipped)."""
    towns: dict[str, _Town] = {}
    for r in rows:
        town, koaza = str(r.get("town") or ""), str(r.get("koaza") or "")
        lat, lon = _as_float(r.get("lat")), _as_float(r.get("lng", r.get("lon")))
        if not town:
            continue
        t = towns.setdefault(_key(town), _Town(town, math.nan, math.nan))
        if not koaza:
            t.lat, t.lon = lat, lon
        elif not math.isnan(lat) and not math.isnan(lon):
            t.koaza.setdefault(_key(koaza), (koaza, lat, lon))
    for t in towns.values():
        if math.isnan(t.lat) and t.koaza:  # a 大字 known only by its 小字: their middle
            pts = np.array([(la, lo) for _, la, lo in t.koaza.values()])
            t.lat, t.lon = (float(v) for v in np.median(pts, axis=0))
        t.koaza_len = max((len(k) for k in t.koaza), default=0)
    towns = {k: t for k, t in towns.items() if not math.isnan(t.lat)}
    index: dict[str, list[str]] = {}
    for tk, t in towns.items():
        for kk in t.koaza:
            index.setdefault(kk, []).append(tk)
    pts = np.array([(t.lat, t.lon) for t in towns.values()]) if towns else np.full((1, 2), np.nan)
    return _Municipality(name, float(np.median(pts[:, 0])), float(np.median(pts[:, 1])), towns,
                         max((len(k) for k in towns), default=0), index)


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    k = math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot((lat2 - lat1) * 111_320.0, (lon2 - lon1) * 111_320.0 * k)


def _longest(text: str, keys: Mapping[str, object], longest: int) -> list[str]:
    """Keys that are prefixes of ``text``, longest first."""
    return [text[:n] for n in range(min(longest, len(text)), 0, -1) if text[:n] in keys]


def _first(text: str, keys: Mapping[str, object], longest: int) -> str | None:
    """The longest key that is a prefix of ``text``."""
    for n in range(min(longest, len(text)), 0, -1):
        if text[:n] in keys:
            return text[:n]
    return None


@dataclass(frozen=True)
class Match:
    """Where one address was placed."""

    lat: float
    lon: float
    level: str
    municipality: str = ""
    town: str = ""
    koaza: str = ""
    remainder: str = ""
    warning: str = ""


SIMILAR = 0.85
"""How alike (difflib ratio) a misspelt 市町村 or 大字 name must be to be taken."""


def _noted(match: Match, note: str) -> Match:
    if not match.level:
        return match
    return Match(match.lat, match.lon, match.level, match.municipality, match.town, match.koaza,
                 match.remainder, f"{note}{match.warning}")


NO_NUMBER = "番地がないため、大字・町丁目の代表点に置きました（広い大字では誤差が大きくなります）。"
TOWN_ONLY = "大字・町丁目より細かい地名が参照データにないため、大字・町丁目の代表点に置きました。"
NEARBY_NOTE = "小字名を近くの別の大字の下で見つけて置きました。"
UNPLACED = Match(math.nan, math.nan, "", warning="住所から市町村が分かりません。")


_PREFS: dict[int, set[str]] = {len(p): set() for p in PREFECTURES}
for _p in PREFECTURES:
    _PREFS[len(_p)].add(_p)


_ANY_PREFECTURE = re.compile(r"^\D{1,4}?[都道府県]")


def _strip_prefecture(s: str) -> str:
    for n, names in _PREFS.items():
        if s[:n] in names:
            return s[n:]
    return s


class Geocoder:
    """Places addresses on reference points; see the module notes.

    Parameters
    ----------
    municipalities
        Municipality name (``[郡]市町村名``) → its indexed reference points.
    areas
        Optional municipality name → polygon (EPSG:4326) to flag points outside it.
    """

    def __init__(self, municipalities: dict[str, _Municipality], *,
                 areas: dict[str, object] | None = None) -> None:
        if not municipalities:
            raise ValueError("a geocoder needs at least one municipality")
        self._munis = municipalities
        self._names: dict[str, str] = {}
        for name in municipalities:
            f = fold(name)
            self._names.setdefault(f, name)
            if "郡" in f[:-1]:
                self._names.setdefault(f.split("郡", 1)[1], name)
        self._name_len = max(len(k) for k in self._names)
        self._koaza_len = {n: max((len(k) for k in m.koaza_index), default=0)
                           for n, m in municipalities.items()}
        self._areas = areas or {}
        self._memo: dict[tuple[str, str], Match] = {}

    @property
    def municipalities(self) -> list[str]:
        return list(self._munis)

    def municipality_of(self, text: str) -> str | None:
        """The reference municipality a name (with or without 県/郡) stands for."""
        s = _strip_prefecture(fold(text))
        return self._names.get(s) or self._names.get(s.split("郡", 1)[-1])

    def match(self, address: str, municipality: str = "") -> Match:
        """Where one address lies (``municipality``: a 市町村 column's value, if any)."""
        key = (address, municipality)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._match(address, municipality)
            if len(self._memo) < 1_000_000:
                self._memo[key] = hit
        return hit

    def _match(self, address: str, municipality: str) -> Match:
        s = _strip_prefecture(fold(address))
        found = _first(s, self._names, self._name_len)
        if found is None and (pref := _ANY_PREFECTURE.match(s)):  # a prefecture not in the list
            found = _first(s[pref.end():], self._names, self._name_len)
            s = s[pref.end():] if found else s
        if found:
            name, s = self._names[found], s[len(found):]
        elif municipality and self.municipality_of(municipality):
            name = str(self.municipality_of(municipality))
        elif len(self._munis) == 1:  # a one-town list often leaves the town out
            name = next(iter(self._munis))
        else:
            near = self._similar(s, self._names, self._name_len)
            if near is None:
                return UNPLACED
            name, s = self._names[near[0]], s[near[1]:]
            out = self._in_municipality(self._munis[name], _LEADING_AZA.sub("", s))
            return self._checked(_noted(out, "市町村名を似た表記から推定しました。"))
        m = self._munis[name]
        out = self._in_municipality(m, _LEADING_AZA.sub("", s))
        return self._checked(out)

    @staticmethod
    def _similar(s: str, keys: Mapping[str, object], longest: int) -> tuple[str, int] | None:
        """The key most like the start of ``s`` (a typo: one character added, dropped or
        changed) and how much of ``s`` it stands for; ``None`` unless one is clearly best."""
        from difflib import SequenceMatcher

        best: list[tuple[float, str, int]] = []
        for key in keys:
            if len(key) < 3 or key[0] != s[:1]:
                continue
            for used in (len(key) - 1, len(key), len(key) + 1):
                ratio = SequenceMatcher(None, key, s[:used]).ratio()
                if ratio >= SIMILAR:
                    best.append((ratio, key, used))
        best.sort(reverse=True)
        if not best or (len(best) > 1 and best[1][0] == best[0][0] and best[1][1] != best[0][1]):
            return None
        return best[0][1], best[0][2]

    def _town_candidates(self, m: _Municipality, s: str) -> list[tuple[str, int]]:
        """(town key, characters consumed): a 丁目 written as digits first, then by length."""
        out = []
        chome = _CHOME_DIGITS.match(s)
        if chome:
            key = f"{chome.group(1)}{chome.group(2)}丁目"
            if key in m.towns:
                used = chome.end()
                out.append((key, used + 1 if s[used:used + 1] == "-" else used))
        out += [(k, len(k)) for k in _longest(s, m.towns, m.town_len)]
        return out

    def _koaza(self, town: _Town, rest: str) -> str | None:
        if not town.koaza or not rest:
            return None
        explicit = bool(_LEADING_AZA.match(rest))
        r = _LEADING_AZA.sub("", rest) if explicit else rest
        for k in _longest(r, town.koaza, town.koaza_len):
            if explicit or not k.isdigit():  # an all-number 小字 only after 字: else it is 番地
                return k
        return None

    def _in_municipality(self, m: _Municipality, s: str) -> Match:
        cands = self._town_candidates(m, s)
        if not cands:
            s2 = s.replace("字", "", 1)  # 「岩城亀田町字亀田町」 for 岩城亀田亀田町
            near = self._similar(s2, m.towns, m.town_len)
            if near is None:
                return self._without_town(m, s)
            return _noted(self._in_town(m, s2, [near]), "大字・町丁目を似た表記から推定しました。")
        return self._in_town(m, s, cands)

    def _in_town(self, m: _Municipality, s: str, cands: list[tuple[str, int]]) -> Match:
        chosen = cands[0]
        for tk, used in cands:  # prefer a split whose rest is a 小字, a number or nothing
            rest = s[used:]
            if self._koaza(m.towns[tk], rest) or not rest or rest[0].isdigit() or rest[0] == "-":
                chosen = (tk, used)
                break
        tk, used = chosen
        town, rest = m.towns[tk], s[used:]
        kk = self._koaza(town, rest)
        if kk is None:
            near = self._nearby_name(m, town, rest)
            if near is not None:
                return near
            remainder = rest.lstrip("-")
            warning = ("" if remainder[:1].isdigit() or remainder.startswith("地内") else
                       NO_NUMBER if not remainder else TOWN_ONLY)
            return self._blocks(Match(town.lat, town.lon, "町字", m.name, town.name,
                                      remainder=remainder, warning=warning), town, "")
        kname, klat, klon = town.koaza[kk]
        r = _LEADING_AZA.sub("", rest)[len(kk):].lstrip("-")
        warning = ""
        far = _metres(klat, klon, town.lat, town.lon)
        if far > FAR_KOAZA_M:
            warning = (f"小字の代表点が大字の代表点から {far / 1000:.1f} km 離れています"
                       "（参照データを確かめてください）。")
        return self._blocks(Match(klat, klon, "小字", m.name, town.name, kname, r, warning),
                            town, kk)

    def _nearby_name(self, m: _Municipality, town: _Town, rest: str) -> Match | None:
        """A 小字 the reference files under a neighbouring 大字 (or as a 大字 of its own),
        within :data:`NEARBY_M` of the address's 大字: the nearest such point."""
        r = _LEADING_AZA.sub("", rest)
        if not r or r[0].isdigit():
            return None
        best: tuple[float, int, Match] | None = None
        for kk in _longest(r, m.koaza_index, self._koaza_len[m.name]):
            for tk in m.koaza_index[kk]:
                kname, lat, lon = m.towns[tk].koaza[kk]
                d = _metres(lat, lon, town.lat, town.lon)
                if d <= NEARBY_M and (best is None or (-len(kk), d) < (best[1], best[0])):
                    best = (d, -len(kk), Match(lat, lon, "小字", m.name, town.name, kname,
                                                r[len(kk):].lstrip("-"), NEARBY_NOTE))
        for tk in _longest(r, m.towns, m.town_len):
            t = m.towns[tk]
            d = _metres(t.lat, t.lon, town.lat, town.lon)
            if d <= NEARBY_M and t is not town and (best is None or (-len(tk), d) < (best[1], best[0])):
                best = (d, -len(tk), Match(t.lat, t.lon, "小字", m.name, town.name, t.name,
                                            r[len(tk):].lstrip("-"), NEARBY_NOTE))
        return None if best is None else best[2]

    def _without_town(self, m: _Municipality, s: str) -> Match:
        """An address that names a 小字 but not its 大字: placed if the 小字 is unique."""
        for kk in _longest(s, m.koaza_index, self._koaza_len[m.name]):
            if kk.isdigit():
                continue
            towns = m.koaza_index[kk]
            if len(towns) == 1:
                town = m.towns[towns[0]]
                kname, lat, lon = town.koaza[kk]
                return Match(lat, lon, "小字", m.name, town.name, kname, s[len(kk):].lstrip("-"),
                             "大字が書かれていないため、小字名だけで置きました。")
            return Match(m.lat, m.lon, "市町村", m.name, remainder=s,
                         warning=f"小字名が {len(towns)} か所の大字にあるため、市町村の代表点に置きました。")
        return Match(m.lat, m.lon, "市町村", m.name, remainder=s,
                     warning="大字・町丁目が参照データにないため、市町村の代表点に置きました。")

    @staticmethod
    def _blocks(match: Match, town: _Town, koaza_key: str) -> Match:
        """A 街区/地番 point when the block reference has the address's first number."""
        if not town.blocks:
            return match
        number = _DIGITS.match(match.remainder)
        hit = town.blocks.get((koaza_key, number.group(0))) if number else None
        if hit is None:
            return match
        return Match(hit[0], hit[1], "街区", match.municipality, match.town, match.koaza,
                     match.remainder[number.end():].lstrip("-") if number else "", "")

    def _checked(self, match: Match) -> Match:
        """Flag a point outside its municipality's polygon (when polygons were given)."""
        area = self._areas.get(match.municipality)
        if area is None or not match.level:
            return match
        lon_m = 111_320.0 * math.cos(math.radians(match.lat))
        if shapely.dwithin(area, shapely.Point(match.lon, match.lat), OUTSIDE_TOLERANCE_M / lon_m):
            return match
        note = "結果の点が市町村の区域の外にあります。"
        return Match(match.lat, match.lon, match.level, match.municipality, match.town,
                     match.koaza, match.remainder, f"{match.warning}{note}")

    def nearest_town(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The 大字・町丁目 whose reference point is nearest to each point (EPSG:4326): a
        label for places given by coordinates (a need placed by a map plug-in), not a
        containment test."""
        from scipy.spatial import cKDTree

        names = [t.name for m in self._munis.values() for t in m.towns.values()]
        if not names:
            return np.full(len(lon), "", dtype=object)
        tlat = np.array([t.lat for m in self._munis.values() for t in m.towns.values()])
        tlon = np.array([t.lon for m in self._munis.values() for t in m.towns.values()])
        scale = np.cos(np.radians(float(np.mean(tlat))))
        _d, idx = cKDTree(np.column_stack([tlon * scale, tlat])).query(
            np.column_stack([np.asarray(lon, float) * scale, np.asarray(lat, float)]))
        return np.asarray(names, dtype=object)[idx]

    def geocode(self, addresses: Sequence[object], municipalities: Sequence[object] | None = None,
                *, remember: bool = True) -> pd.DataFrame:
        """Every address placed: ``lat``, ``lon``, ``match_level``, ``municipality``,
        ``town``, ``koaza``, ``remainder``, ``warning`` (one row per address, same order).

        ``remember=False`` keeps no trace of the addresses (a register's: the geocoder
        lives on in the app, and its memo must never hold a person's address)."""
        hints = municipalities if municipalities is not None else [""] * len(addresses)
        place = self.match if remember else self._match
        rows = [place("" if a is None or (isinstance(a, float) and math.isnan(a)) else str(a),
                      "" if h is None or (isinstance(h, float) and math.isnan(h)) else str(h))
                for a, h in zip(addresses, hints, strict=True)]
        return pd.DataFrame({
            "lat": np.fromiter((r.lat for r in rows), float, len(rows)),
            "lon": np.fromiter((r.lon for r in rows), float, len(rows)),
            "match_level": [r.level for r in rows],
            "municipality": [r.municipality for r in rows],
            "town": [r.town for r in rows],
            "koaza": [r.koaza for r in rows],
            "remainder": [r.remainder for r in rows],
            "warning": [r.warning for r in rows],
        })


def _municipality_name(path: Path) -> str:
    return unicodedata.normalize("NFC", path.stem)


def read_reference(paths: Sequence[Path]) -> dict[str, _Municipality]:
    """The 町字/小字 JSON files (one per municipality, named ``[郡]市町村名.json``)."""
    from layers.readers import read_json

    out: dict[str, _Municipality] = {}
    for path in paths:
        rows = _reference_rows(read_json(Path(path)), Path(path))
        out[_municipality_name(Path(path))] = _municipality(_municipality_name(Path(path)), rows)
    return out


def _reference_rows(data: object, path: Path) -> list[dict[str, object]]:
    """``data`` checked to be a japanese-addresses list of 町字 points (see :func:`read_reference`)."""
    if not isinstance(data, list) or any(not isinstance(r, dict) for r in data):
        raise LayerError("町字の参照点のファイルではありません（town・koaza・lat・lng の一覧です）。",
                         file=path,
                         fix="japanese-addresses 形式の市町村ごとの JSON を指定してください。")
    if data and not any("town" in r for r in data):
        raise LayerError("町字の参照点に town の項目がありません。", file=path, column="town",
                         fix="japanese-addresses 形式の市町村ごとの JSON を指定してください。")
    _check_points(path, data)
    return data


NO_REFERENCE_FIX = ("アプリではデータのページで追加先に「町字の参照点」を選び、"
                    "市町村の町字 JSON（例: 潟上市.json）を追加してください"
                    "（コマンドでは地域設定に [geocoder] path = \"machiaza/*.json\" を書き、"
                    "--region でその地域設定を指定）。または緯度・経度の列を加えてください。")
"""How to give a region the 町字 points that place addresses: one text for every list that needs it."""

MAX_REFERENCE_BYTES = 32 * 2**20
"""Largest 町字 JSON accepted (a municipality's file is under 1 MB; 秋田市's is 90 kB)."""
OUTSIDE_SHARE = 0.5
"""A 町字 file most of whose points lie outside the region's boundaries is refused."""


def reference_from_bytes(filename: str, data: bytes, *, boundaries: gpd.GeoDataFrame | None = None
                         ) -> dict[str, _Municipality]:
    """One uploaded 町字 JSON (the same checks as :func:`read_reference`, on bytes): bounded in
    size, and, with ``boundaries`` (``name``, geometry), refused when most of its points lie
    outside them — a file of another municipality or prefecture.  Named by its file
    (``[郡]市町村名.json``) or, when that is no municipality of ``boundaries``, by the one
    holding most of its points."""
    import json

    from layers.readers import decode_text

    path = Path(filename)
    if len(data) > MAX_REFERENCE_BYTES:
        raise LayerError(f"町字の参照点のファイルが大きすぎます（{len(data) / 2**20:,.0f} MB）。", file=path,
                         fix=f"市町村ごとのファイル（{MAX_REFERENCE_BYTES // 2**20} MB まで）を"
                         "選んでください。")
    try:
        doc = json.loads(decode_text(data, file=path))
    except json.JSONDecodeError as exc:
        raise LayerError("JSON として読めません（町字の参照点は JSON のファイルです）。", file=path,
                         row=exc.lineno, fix="japanese-addresses 形式の市町村ごとの JSON を選んでください。"
                         ) from None
    rows = _reference_rows(doc, path)
    name = _municipality_name(path)
    if boundaries is not None and len(boundaries) and "name" in boundaries.columns:
        name = _placed_name(rows, name, boundaries, path)
    return {name: _municipality(name, rows)}


def _placed_name(rows: list[dict[str, object]], name: str, boundaries: gpd.GeoDataFrame, path: Path) -> str:
    """The municipality of the uploaded points; refused when most lie outside ``boundaries``."""
    lat = np.array([_as_float(r.get("lat")) for r in rows], float)
    lon = np.array([_as_float(r.get("lng", r.get("lon"))) for r in rows], float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        return name
    frame = boundaries.to_crs("EPSG:4326")
    tree = shapely.STRtree(frame.geometry.to_numpy())
    pi, bi = tree.query(shapely.points(lon[ok], lat[ok]), predicate="within")
    inside = len(np.unique(pi)) / int(ok.sum())
    if inside < 1 - OUTSIDE_SHARE:
        raise LayerError(f"町字の参照点の {100 * (1 - inside):.0f} % が地域の市町村界の外にあります"
                         "（別の市町村・都道府県のファイルではありませんか）。", file=path,
                         fix="地域の市町村の町字ファイル（例: 潟上市.json）を選んでください。")
    names = frame["name"].astype(str).to_numpy()
    if any(fold(n) == fold(name) or fold(name).endswith(fold(n)) for n in names):
        return name
    counts = np.bincount(bi, minlength=len(names))
    return str(names[int(np.argmax(counts))])


def geocoder_with(base: Geocoder | None, extra: dict[str, _Municipality], *,
                  boundaries: gpd.GeoDataFrame | None = None) -> Geocoder | None:
    """``base``'s reference points with ``extra`` municipalities added (an uploaded 町字 file
    replaces the same municipality's); None when there are none."""
    munis = {**(base._munis if base is not None else {}), **extra}
    if not munis:
        return None
    g = Geocoder(munis)
    if boundaries is None or not len(boundaries) or "name" not in boundaries.columns:
        return g
    areas: dict[str, object] = {}
    frame = boundaries.to_crs("EPSG:4326")
    for name, geom in zip(frame["name"].astype(str), frame.geometry, strict=True):
        ref = g.municipality_of(name)
        if ref is not None:
            areas[ref] = geom if ref not in areas else shapely.union(areas[ref], geom)
    return Geocoder(munis, areas=areas)


def _check_points(path: Path, rows: list[dict[str, object]]) -> None:
    """Every given lat/lng is a finite number inside Japan (a point without coordinates is
    skipped later); the first problems are named with their row (1 = the list's first)."""
    from layers.crs import JAPAN_BOUNDS

    west, south, east, north = JAPAN_BOUNDS
    problems: list[tuple[int, str, object]] = []
    for i, r in enumerate(rows, start=1):
        for column, low, high in (("lat", south, north), ("lng", west, east)):
            value = r.get(column, r.get("lon")) if column == "lng" else r.get(column)
            if value is None or value == "":
                continue
            number = _as_float(value) if not isinstance(value, bool) else math.nan
            if math.isnan(number) or not low <= number <= high:
                problems.append((i, column, value))
    if problems:
        row, column, value = problems[0]
        more = f"（ほか {len(problems) - 1} 件）" if len(problems) > 1 else ""
        raise LayerError(f"町字の参照点の座標が日本の範囲の数ではありません: {str(value)[:20]!r}{more}",
                         file=path, row=row, column=column,
                         fix=f"lat は {south:g}〜{north:g}、lng は {west:g}〜{east:g} の数にしてください"
                         "（座標のない点は lat・lng を空にすれば読み飛ばします）。")


ADDRESS_NAMES = ("住所", "所在地", "address", "住所1", "所在地住所", "施設住所")
MUNICIPALITY_NAMES = ("市町村", "市町村名", "市区町村", "市区町村名", "都道府県名及び市町村名", "自治体名")


def level_counts(levels: Sequence[str]) -> dict[str, int]:
    """How many addresses were placed at each level (``未配置`` for the unplaced)."""
    counts = {lvl: 0 for lvl in LEVELS}
    for lvl in levels:
        counts[lvl or "未配置"] = counts.get(lvl or "未配置", 0) + 1
    return {k: v for k, v in counts.items() if v}


def describe_levels(counts: dict[str, int], doubtful: int = 0) -> str:
    """``住所から位置を求めました: 小字 12 件、町字 30 件（うち要確認 5 件）``."""
    parts = "、".join(f"{k} {v:,} 件" for k, v in counts.items())
    tail = f"（うち要確認 {doubtful:,} 件）" if doubtful else ""
    return f"住所から位置を求めました: {parts}{tail}"


def place_table(df: pd.DataFrame, column: str, geocoder: Geocoder, *,
                municipality_column: str | None = None, remember: bool = True) -> pd.DataFrame:
    """:meth:`Geocoder.geocode` on a table's address column (and its 市町村 column, found
    by name when not given)."""
    from layers.readers import find_column

    muni = find_column(df, MUNICIPALITY_NAMES, mapped=municipality_column)
    return geocoder.geocode(df[column].tolist(), df[muni].tolist() if muni else None,
                            remember=remember)


BLOCK_COLUMNS = ("市区町村名", "大字・丁目名", "小字・通称名", "街区符号・地番", "緯度", "経度")


def read_blocks(path: Path, municipalities: dict[str, _Municipality],
                names: Mapping[str, str]) -> int:
    """Add the points of an MLIT 位置参照情報 街区レベル CSV (cp932 or UTF-8) to the 大字 of
    ``municipalities``; return how many were added.  A 大字 the 町字 files lack is added
    at the middle of its blocks."""
    from layers.readers import find_column, parse_numbers, read_table, table_row

    df = read_table(path)
    cols = {c: find_column(df, [c]) for c in BLOCK_COLUMNS}
    missing = [c for c, v in cols.items() if v is None]
    if missing:
        raise LayerError(f"街区レベル位置参照情報の列がありません: {'、'.join(missing)}", file=path, row=1,
                         column=missing[0],
                         fix="国土交通省「位置参照情報（街区レベル）」の CSV をそのまま指定してください。")
    _, lat = parse_numbers(df[str(cols["緯度"])])
    _, lon = parse_numbers(df[str(cols["経度"])])
    bad = ~(np.isfinite(lat) & np.isfinite(lon))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LayerError("緯度・経度が数値ではない行があります。", file=path, row=table_row(df, i),
                         column=str(cols["緯度"]), fix="元の CSV のまま指定してください。")
    added = 0
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for muni, town, koaza, block, la, lo in zip(
            df[str(cols["市区町村名"])], df[str(cols["大字・丁目名"])], df[str(cols["小字・通称名"])],
            df[str(cols["街区符号・地番"])], lat, lon, strict=True):
        name = names.get(fold(muni)) or names.get(fold(muni).split("郡", 1)[-1])
        number = _DIGITS.search(fold(block))
        if name is None or number is None:
            continue
        m = municipalities[name]
        tk = _key(town)
        t = m.towns.get(tk)
        if t is None:
            t = m.towns[tk] = _Town(town, math.nan, math.nan)
            m.town_len = max(m.town_len, len(tk))
        groups.setdefault((name, tk), []).append((float(la), float(lo)))
        t.blocks.setdefault((_key(koaza) if koaza else "", number.group(0)), (float(la), float(lo)))
        added += 1
    for (name, tk), pts in groups.items():
        t = municipalities[name].towns[tk]
        if math.isnan(t.lat):
            t.lat, t.lon = (float(v) for v in np.median(np.array(pts), axis=0))
    return added


def load_geocoder(paths: Sequence[Path], *, blocks: Sequence[Path] = (),
                  boundaries: gpd.GeoDataFrame | None = None) -> Geocoder:
    """A :class:`Geocoder` on the 町字/小字 JSON files ``paths`` (plus 街区 CSV ``blocks``);
    with ``boundaries`` (a municipality layer: ``name``, geometry) points outside their
    municipality are flagged."""
    munis = read_reference(paths)
    if not munis:
        raise LayerError("町字の参照点のファイルがありません。", column="geocoder.path",
                         fix='[geocoder] path = "machiaza/*.json" のように指定してください。')
    g = Geocoder(munis)
    for path in blocks:
        read_blocks(Path(path), munis, g._names)
    if boundaries is not None:
        g = geocoder_with(None, munis, boundaries=boundaries) or g
    log.info("geocoder: %d municipalities, %d 町字", len(munis),
             sum(len(m.towns) for m in munis.values()))
    return g


@dataclass(frozen=True)
class GeocodedList:
    """A list with its places: the table with 緯度, 経度, match_level, remainder, 注意."""

    table: pd.DataFrame
    levels: dict[str, int]
    doubtful: int
    unplaced_rows: list[int]

    def summary(self) -> dict[str, object]:
        return {"rows": len(self.table), "levels": self.levels, "doubtful": self.doubtful,
                "unplaced_rows": self.unplaced_rows[:50]}


def geocode_list(df: pd.DataFrame, geocoder: Geocoder, *, file: Path | str,
                 address: str | None = None, municipality: str | None = None) -> GeocodedList:
    """Place every row of a non-private list (居場所, VC候補地 …) by its address.

    Refuses a table that looks like a register (氏名, 生年月日 … columns): addresses of
    people are placed only inside the anonymiser, never written out.
    """
    from layers.personal import personal_columns
    from layers.readers import LAT_NAMES, LON_NAMES, find_column, table_row

    personal = personal_columns(df)
    if personal:
        raise LayerError("名簿（個人の一覧）のように見えるため、位置を付けたファイルは作りません"
                         f"（{personal[0][1]}）。",
                         file=file, row=1, column=personal[0][0],
                         fix="要配慮者の名簿は tomoni anonymize で読み込んでください（住所の位置は"
                             "匿名化の中でだけ求め、ファイルには残しません）。")
    col = find_column(df, ADDRESS_NAMES, mapped=address)
    if col is None:
        raise LayerError("住所の列が見つかりません。", file=file, row=1, column=address or "住所",
                         fix="「住所」または「所在地」の列を用意するか、--address で列名を指定してください。")
    have = [c for c in (find_column(df, LAT_NAMES), find_column(df, LON_NAMES)) if c]
    if have:
        raise LayerError("緯度・経度の列が既にあります。", file=file, row=1, column=have[0],
                         fix="座標のない一覧を指定するか、緯度・経度の列を消してから実行してください。")
    placed = place_table(df, col, geocoder, municipality_column=municipality)
    out = df.copy()
    out["緯度"] = placed["lat"].round(6).to_numpy()
    out["経度"] = placed["lon"].round(6).to_numpy()
    out["match_level"] = placed["match_level"].replace("", "未配置").to_numpy()
    out["remainder"] = placed["remainder"].to_numpy()
    out["注意"] = placed["warning"].to_numpy()
    missing = np.flatnonzero((placed["match_level"] == "").to_numpy())
    return GeocodedList(out, level_counts(placed["match_level"].tolist()),
                        int((placed["warning"] != "").sum() - len(missing)),
                        [table_row(df, int(i)) for i in missing])


HAND_PLACED = "手動"
"""The match level of a point a person set by clicking the map."""


def set_point(frame: gpd.GeoDataFrame, position: int, lon: float, lat: float) -> gpd.GeoDataFrame:
    """A copy of a point layer (never a register) with row ``position`` moved to
    (``lon``, ``lat``) in EPSG:4326 and its ``match_level`` set to :data:`HAND_PLACED`."""
    from layers.crs import STORAGE_CRS, check_in_japan

    if not 0 <= position < len(frame):
        raise IndexError(position)
    check_in_japan(np.array([lon]), np.array([lat]), file="地図", columns=("経度", "緯度"))
    out = frame.copy()
    geoms = out.geometry.to_crs(STORAGE_CRS).to_numpy().copy()
    geoms[position] = shapely.Point(round(float(lon), 7), round(float(lat), 7))
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=STORAGE_CRS)).to_crs(frame.crs)
    if "match_level" not in out:
        out["match_level"] = ""
    out["match_level"] = out["match_level"].astype(object)
    out.iloc[position, out.columns.get_loc("match_level")] = HAND_PLACED
    out.attrs = dict(frame.attrs)
    return out
