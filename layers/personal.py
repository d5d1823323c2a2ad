"""Columns that hold people: recognised by what they hold, not only by their header.

A 要配慮者 register must only ever enter through the anonymiser. A list given as a 居場所 or
VC-site layer, or to ``tomoni geocode``, is refused when one of its columns holds personal
names (``山本 ミツ``, written kanji/kana with a space between family and given name), or its
header says it holds names, birthdays, a person's phone, care levels or disabilities —
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
        text = values.map(lambda v: unicodedata.normalize("NFKC", str(v)))
        person = text.str.fullmatch(_PERSON) & ~text.str.contains(_PLACE_WORDS)
        if person.mean() >= SHARE:
            found.append((str(col), "中身が人の氏名のように見えます"))
    return found
