"""Columns that hold people: recognised by what they hold, not only by their header.

A 要配慮者 register must only ever enter through the anonymiser. A list given as a 居場所 or
VC-site layer, or to ``tomoni geocode``, is refused when one of its columns holds, in at least
half of its filled cells,

* personal names: ``山本 ミツ`` (kanji family name, a space, a kanji or kana given name) or
  ``ヤマモト ミツ`` / ``やまもと みつ`` (a reading, two kana words);
* birthdays: dates at least :data:`BIRTH_YEARS` years ago (``1938/04/02``, ``昭和13年4月2日``,
  ``S13.4.2``, with or without 生) — a 居場所's dates are its days and events, not its
  founding (a header naming 設立・開設… is not read as birthdays);
* mobile phone numbers (``090-…``, ``080…``, ``070…``): a person's, where a facility lists
  its landline;

or its header says it holds names, birthdays, a person's phone, care levels or disabilities —
whatever the header's spelling (``お名前``, ``氏　名``, ``氏名（漢字）``, ``姓``/``名``,
``対象者``, ``利用者``, ``誕生日``, ``name`` holding people's names …).
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = ["personal_columns"]

_HEADER_WORDS = ("氏名", "名前", "ふりがな", "フリガナ", "よみがな", "生年月日", "誕生日", "年齢", "要介護",
                 "障害", "障がい", "対象者", "利用者", "本人", "自宅電話", "携帯", "birth")
_HEADER_EXACT = ("姓", "名", "氏", "カナ", "性別")
_KANJI = "\u4e00-\u9fff々〆ヶ"
_PERSON = re.compile(f"^[{_KANJI}]{{1,4}}[ \u3000]+[{_KANJI}\u3040-\u309f\u30a0-\u30ffー]{{1,5}}$")
"""Family name (kanji), a space, given name (kanji or kana): how registers write people."""
_READING = re.compile("^[\u3040-\u309f\u30a0-\u30ffー]{2,7}[ \u3000]+[\u3040-\u309f\u30a0-\u30ffー]{1,6}$")
"""A person's name as its reading: two kana words (ヤマモト ミツ, やまもと みつ)."""
_MOBILE = re.compile(r"^\(?0[789]0\)?[-‐ー−\s]?\d{4}[-‐ー−\s]?\d{4}$")
"""A mobile number (070/080/090): a person's phone."""
_DATE = re.compile(r"^(?:(?P<era>明治|大正|昭和|平成|令和|[MTSHR])\s*(?P<ey>\d{1,2}|元)"
                   r"|(?P<y>(?:18|19|20)\d\d))\s*[年./\-]\s*(?P<m>\d{1,2})\s*[月./\-]\s*(?P<d>\d{1,2})\s*日?\s*(?:生|生まれ)?$")
_ERA_START = {"明治": 1867, "M": 1867, "大正": 1911, "T": 1911, "昭和": 1925, "S": 1925, "平成": 1988,
              "H": 1988, "令和": 2018, "R": 2018}
BIRTH_YEARS = 15
"""A date at least this many years ago, in a column of dates, is read as a birthday."""
_NOT_BIRTH = re.compile(r"設立|開設|創立|設置|竣工|建設|建築|開所|開始|登録|指定|更新|年度")
_PLACE_WORDS = re.compile(r"サロン|会館|センター|公民館|集会|館|所|園|寺|院|校|店|荘|クラブ|広場|神社|組合|"
                          r"協会|会$")
SHARE = 0.5
"""Share of a column's filled cells that must look like personal names."""


def _header(name: object) -> str:
    return re.sub(r"[\s\u3000（）()・_]", "", unicodedata.normalize("NFKC", str(name))).lower()


def personal_columns(df: pd.DataFrame, *, sample: int = 500) -> list[tuple[str, str]]:
    """``(column, why)`` for every column that holds people, header first then contents (the
    first ``sample`` filled cells of each text column are looked at)."""
    found: list[tuple[str, str]] = []
    for col in df.columns:
        head = _header(col)
        if any(w in head for w in _HEADER_WORDS) or head in _HEADER_EXACT:
            found.append((str(col), "見出しが個人の情報を示しています"))
            continue
        values = df[col].fillna("").astype(str).str.strip()
        values = values[values != ""].head(sample)
        if not len(values):
            continue
        why = _contents(values.map(lambda v: unicodedata.normalize("NFKC", str(v))), head)
        if why:
            found.append((str(col), why))
    return found


def _contents(text: pd.Series, head: str) -> str | None:
    """Why these cells look like people (None when they do not)."""
    person = (text.str.fullmatch(_PERSON) | text.str.fullmatch(_READING)) & ~text.str.contains(_PLACE_WORDS)
    if person.mean() >= SHARE:
        return "中身が人の氏名のように見えます"
    if text.str.fullmatch(_MOBILE).mean() >= SHARE:
        return "中身が携帯電話の番号のように見えます"
    if not _NOT_BIRTH.search(head) and _birthdays(text).mean() >= SHARE:
        return "中身が生年月日のように見えます"
    return None


def _birthdays(text: pd.Series) -> pd.Series:
    """Whether each cell is a date at least :data:`BIRTH_YEARS` years ago."""
    import datetime

    parts = text.str.extract(_DATE)
    era_year = pd.to_numeric(parts["ey"].replace("元", "1"), errors="coerce")
    year = pd.to_numeric(parts["y"], errors="coerce").fillna(parts["era"].map(_ERA_START) + era_year)
    ok = year.notna() & pd.to_numeric(parts["m"], errors="coerce").between(1, 12) & \
        pd.to_numeric(parts["d"], errors="coerce").between(1, 31)
    return ok & (year <= datetime.date.today().year - BIRTH_YEARS)
