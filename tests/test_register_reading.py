"""A register read at file speed gives exactly what the careful reader gives; anything
unusual goes to the careful reader, which names the row and column (never a value)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from layers import registers
from layers.errors import LayerError
from layers.registers import read_records
from layers.vulnerable import load_vulnerable

HEADER = "整理番号,氏名,住所,区分,避難支援,緯度,経度"
ROWS = [
    "R001,秋田 花子,秋田市旭南1-1,高齢独居,要,39.710001,140.110001",
    "R002, 秋田 太郎 ,秋田市旭南1-2, 要介護 ,,39.720002 , 140.120002",
    "R003,男鹿 一郎,男鹿市船川港1,障害,有,,",                       # not yet located
    "R004,能代 次郎,能代市1,高齢独居,あり,40.210004,140.030004",
    ",,,,,,",                                                      # Excel's trailing line
]


def _careful(path: Path | tuple[str, bytes], **kw):  # type: ignore[no-untyped-def]
    original = registers._fast_records
    registers._fast_records = lambda *a, **k: None  # type: ignore[assignment]
    try:
        return read_records(path, **kw)
    finally:
        registers._fast_records = original


def _write(tmp_path: Path, lines: list[str], encoding: str = "utf-8-sig", name: str = "meibo.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join([HEADER, *lines]) + "\r\n").encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp932"])
def test_the_fast_reader_gives_what_the_careful_reader_gives(tmp_path, encoding):
    path = _write(tmp_path, ROWS, encoding)
    fast, careful = read_records(path), _careful(path)
    assert (fast.n_read, fast.n_unlocated) == (careful.n_read, careful.n_unlocated) == (4, 1)
    assert fast.dataset_id == careful.dataset_id
    assert np.array_equal(fast.lat, careful.lat) and np.array_equal(fast.lon, careful.lon)
    assert list(fast.category) == list(careful.category) == ["高齢独居", "要介護", "高齢独居"]
    assert list(fast.mobility) == list(careful.mobility) == [True, False, True]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932"])
def test_a_register_of_many_blocks_reads_like_the_careful_reader(tmp_path, encoding):
    """Rows spread over many read blocks (each ~1 MB), blank rows and a category first seen
    late give the same records; a number repeated blocks apart still goes to the careful
    reader, which names both rows."""
    rng = np.random.default_rng(5)
    cats = ["高齢独居", "要介護", "障害"]
    lines = [f"R{i:06d},秋田 花子,秋田市旭南{i}番,{cats[i % 3] if i < 40_000 else '乳幼児'},"
             f"{'要' if i % 7 == 0 else ''},{39 + rng.random():.6f},{140 + rng.random():.6f}"
             for i in range(45_000)]
    lines[12_345] = f"R{12_345:06d},秋田 花子,秋田市,要介護,,,"  # not yet located
    path = _write(tmp_path, [*lines, ",,,,,,"], encoding)
    assert path.stat().st_size > 2 << 20
    fast, careful = read_records(path), _careful(path)
    assert (fast.n_read, fast.n_unlocated) == (careful.n_read, careful.n_unlocated) == (45_000, 1)
    assert fast.dataset_id == careful.dataset_id
    assert np.array_equal(fast.lat, careful.lat) and list(fast.category) == list(careful.category)
    assert list(fast.mobility) == list(careful.mobility)
    lines[44_000] = lines[10].replace("秋田 花子", "別 人")  # the same 番号 ~2.5 MB later
    with pytest.raises(LayerError) as err:
        read_records(_write(tmp_path, lines, encoding, name="dup.csv"))
    assert err.value.row == 12 and "重複" in err.value.message


def test_an_upload_in_memory_reads_the_same(tmp_path):
    path = _write(tmp_path, ROWS)
    fast = read_records(("meibo.csv", path.read_bytes()))
    assert fast.dataset_id == read_records(path).dataset_id


def test_a_register_is_parsed_once_and_never_cell_by_cell(tmp_path, monkeypatch):
    """Recognising the kind reads the header only; the records are read by the fast path."""
    path = _write(tmp_path, ROWS)

    def refuse(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("the whole table was parsed")

    monkeypatch.setattr("layers.readers.parse_table", refuse)
    monkeypatch.setattr("layers.registers.parse_table", refuse)
    density = load_vulnerable([path], k=3)
    assert abs(density.attrs["summary"]["records_read"] - 4) <= 2  # protected (cell key)


@pytest.mark.parametrize(("row", "column", "words", "at"), [
    ("R005,x,x,高齢独居,,北緯40度,140.1", "緯度", "数値ではない", 4),
    ("R001,x,x,高齢独居,,40.1,140.1", "整理番号", "2 行目と 4 行目", 2),
])
def test_unusual_rows_are_named_by_the_careful_reader(tmp_path, row, column, words, at):
    path = _write(tmp_path, [*ROWS[:2], row])
    with pytest.raises(LayerError) as err:
        read_records(path)
    assert err.value.column == column and words in err.value.message and err.value.row == at
    assert "北緯" not in str(err.value)


def test_full_width_digits_still_read(tmp_path):
    path = _write(tmp_path, ["R001,x,x,高齢独居,,３９．７１,１４０．１１"])
    r = read_records(path)
    assert r.lat.tolist() == [39.71] and r.lon.tolist() == [140.11]


@pytest.mark.parametrize("level", [3, 4, 5])
def test_mesh_codes_by_arithmetic_are_jismesh_codes(level):
    """Cells found by integer arithmetic, each coded once: the same codes as jismesh gives
    point by point — on cell edges too (those are coded by jismesh itself)."""
    import jismesh.utils as ju

    from layers.mesh import DLAT, DLON, mesh_codes

    rng = np.random.default_rng(level)
    lat = np.round(rng.uniform(24.5, 45.5, 20_000), 6)
    lon = np.round(rng.uniform(123.0, 146.0, 20_000), 6)
    k = np.arange(300)
    r0, c0 = int(39.7 / DLAT[level]), int(140.1 / DLON[level])  # points exactly on cell edges
    lat = np.r_[lat, (r0 + k) * DLAT[level], np.round((r0 + k) * DLAT[level], 6), np.full(300, 39.7)]
    lon = np.r_[lon, np.full(600, 140.1), (c0 + k) * DLON[level]]
    expected = np.asarray(ju.to_meshcode(lat, lon, level), dtype=np.int64)
    assert np.array_equal(mesh_codes(lat, lon, level), expected)
