"""A copy of the demo region whose every name is hostile: script tags and spreadsheet formulas.

Used by the injection tests: every HTML page and CSV file the project writes from
it must show these names as inert text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

XSS = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'
SCRIPT = '</script><script>window.__xss=(window.__xss||0)+1</script>'
FORMULAS = ['=HYPERLINK("http://example.invalid","x")', "+1+cmd", "-2+3*A1", "@SUM(A1:A9)",
            "\t=1+1"]  # (a lone CR inside a cell is refused by the readers; csv_text's test covers it)
PAYLOADS = [XSS, SCRIPT, *FORMULAS]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def hostile(i: int, original: str) -> str:
    """The ``i``-th row's hostile name (keeps the original so names stay distinct)."""
    p = PAYLOADS[i % len(PAYLOADS)]
    return f"{p}{original}" if p[0] in FORMULA_START else f"{original}{p}"


def _csv(src: Path, dst: Path, column: str, encoding: str) -> None:
    df = pd.read_csv(src, dtype=str, keep_default_na=False, encoding=encoding)
    df[column] = [hostile(i, v) for i, v in enumerate(df[column])]
    dst.write_bytes(df.to_csv(index=False).encode(encoding))


def _geojson(src: Path, dst: Path, column: str) -> None:
    data = json.loads(src.read_text("utf-8"))
    for i, f in enumerate(data["features"]):
        f["properties"][column] = hostile(i, str(f["properties"].get(column) or ""))
    dst.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def make_hostile_region(demo_dir: Path, out: Path) -> Path:
    """Write the hostile copy into ``out`` (large unchanged files linked) and return its TOML."""
    out.mkdir(parents=True, exist_ok=True)
    changed = {
        "ibasho.csv": lambda s, d: _csv(s, d, "名称", "utf-8-sig"),
        "gsi_emergency_sites.csv": lambda s, d: _csv(s, d, "施設・場所名", "utf-8-sig"),
        "gsi_evacuation_shelters_cp932.csv": lambda s, d: _csv(s, d, "施設・場所名", "cp932"),
        "vc_candidates.csv": lambda s, d: _csv(s, d, "名称", "utf-8-sig"),
        "jichikai.geojson": lambda s, d: _geojson(s, d, "自治会名"),
        "boundaries_n03.geojson": lambda s, d: _geojson(s, d, "N03_004"),
        "hazards.geojson": lambda s, d: _geojson(s, d, "名称"),
        "barriers.geojson": lambda s, d: _geojson(s, d, "名称"),
    }
    for f in demo_dir.iterdir():
        if f.name in ("results", "region.toml"):
            continue
        if f.name in changed:
            changed[f.name](f, out / f.name)
        else:
            (out / f.name).symlink_to(f)
    toml = (demo_dir / "region.toml").read_text("utf-8")
    toml = toml.replace('name = "みずうみ地域（架空）"', f'name = "みずうみ{XSS.replace(chr(34), "")}"')
    (out / "region.toml").write_text(toml, encoding="utf-8")
    return out / "region.toml"
