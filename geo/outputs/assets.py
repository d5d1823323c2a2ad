"""Offline browser assets for folium maps.

folium points its scripts at public CDNs; with no internet a map stays blank.
At setup the exact versions are installed from the npm registry
(``assets/package.json``, never committed) and copied by :func:`install_vendor`
into ``static/vendor/``, which Streamlit serves at ``/app/static/vendor/``.

:func:`localise` rewrites the script and style links of *one* map (instance
attributes, never folium's class attributes: Streamlit sessions share a
process).  :func:`standalone_html` inlines everything into one HTML file that
works from a USB stick.
"""

from __future__ import annotations

import argparse
import base64
import logging
import mimetypes
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium

from layers.errors import LayerError

__all__ = [
    "STATIC_URL",
    "VENDOR_DIR",
    "install_vendor",
    "localise",
    "standalone_html",
    "vendor_ready",
]

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
VENDOR_DIR = ROOT / "static" / "vendor"
NODE_MODULES = ROOT / "assets" / "node_modules"
STATIC_URL = "/app/static/vendor"

# vendor path (under static/vendor) → source path (under node_modules)
FILES: dict[str, str] = {
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images/layers.png": "leaflet/dist/images/layers.png",
    "leaflet/images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
    "leaflet/images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
    "jquery/jquery.min.js": "jquery/dist/jquery.min.js",
    "bootstrap/bootstrap.bundle.min.js": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "bootstrap/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "fontawesome/css/all.min.css": "@fortawesome/fontawesome-free/css/all.min.css",
    "awesome-markers/leaflet.awesome-markers.js":
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.min.js",
    "awesome-markers/leaflet.awesome-markers.css":
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
    "markercluster/leaflet.markercluster.js": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "markercluster/MarkerCluster.css": "leaflet.markercluster/dist/MarkerCluster.css",
    "markercluster/MarkerCluster.Default.css": "leaflet.markercluster/dist/MarkerCluster.Default.css",
}
DIRS: dict[str, str] = {
    "fontawesome/webfonts": "@fortawesome/fontawesome-free/webfonts",
    "awesome-markers/images": "leaflet.awesome-markers/dist/images",
}

# CDN file name (last path part) → vendor path
_BY_NAME: dict[str, str] = {
    "leaflet.js": "leaflet/leaflet.js",
    "leaflet.css": "leaflet/leaflet.css",
    "jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
    "bootstrap.min.css": "bootstrap/bootstrap.min.css",
    "all.min.css": "fontawesome/css/all.min.css",
    "leaflet.awesome-markers.js": "awesome-markers/leaflet.awesome-markers.js",
    "leaflet.awesome-markers.css": "awesome-markers/leaflet.awesome-markers.css",
    "leaflet.markercluster.js": "markercluster/leaflet.markercluster.js",
    "MarkerCluster.css": "markercluster/MarkerCluster.css",
    "MarkerCluster.Default.css": "markercluster/MarkerCluster.Default.css",
}
# cosmetic styles we do not ship (glyphicons for Bootstrap 3, rotated icons)
_DROP = {"bootstrap-glyphicons.css", "leaflet.awesome.rotate.min.css"}
# what our maps need at all: folium's Map also lists bootstrap and awesome
# markers, which no tomoni map uses; leaving them out makes maps load faster
_MAP_JS = [("leaflet", "leaflet/leaflet.js"), ("jquery", "jquery/jquery.min.js")]
_MAP_CSS = [("leaflet_css", "leaflet/leaflet.css")]


def vendor_ready(vendor: Path = VENDOR_DIR) -> bool:
    """Whether every vendored file is in place."""
    return all((vendor / rel).is_file() for rel in FILES)


def install_vendor(node_modules: Path = NODE_MODULES, vendor: Path = VENDOR_DIR) -> list[Path]:
    """Copy the needed files from an ``npm install`` into ``static/vendor``."""
    copied: list[Path] = []
    for rel, src in FILES.items():
        source = node_modules / src
        if not source.is_file():
            raise LayerError(
                "地図用のブラウザ部品（npm パッケージ）が見つかりません。",
                file=source,
                fix="bash scripts/setup.sh を実行してください（npm レジストリから取得します）。",
            )
        target = vendor / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(target)
    for rel, src in DIRS.items():
        target = vendor / rel
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(node_modules / src, target)
        copied.append(target)
    return copied


def _walk(element: Any) -> Iterator[Any]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _local(url: str, base: str) -> str | None:
    name = url.rsplit("/", 1)[-1]
    if url.startswith(base):
        return url
    rel = _BY_NAME.get(name)
    return f"{base}/{rel}" if rel else None


def localise(m: folium.Map, *, base_url: str = STATIC_URL) -> folium.Map:
    """Point every script and style of ``m`` at the local copies (in place on ``m``).

    Raises
    ------
    RuntimeError
        When an element needs a script that is not vendored (vendor it first:
        a map must never reach for a CDN).
    """
    for elem in _walk(m):
        if isinstance(elem, folium.Map):
            elem.default_js = [(k, f"{base_url}/{v}") for k, v in _MAP_JS]
            elem.default_css = [(k, f"{base_url}/{v}") for k, v in _MAP_CSS]
            continue
        js = getattr(elem, "default_js", None)
        css = getattr(elem, "default_css", None)
        if js is None and css is None:
            continue
        new_js = []
        for key, url in js or []:
            local = _local(url, base_url)
            if local is None:
                raise RuntimeError(f"script not vendored: {url} ({type(elem).__name__})")
            new_js.append((key, local))
        new_css = []
        for key, url in css or []:
            name = url.rsplit("/", 1)[-1]
            if name in _DROP:
                continue
            local = _local(url, base_url)
            if local is None:
                raise RuntimeError(f"style not vendored: {url} ({type(elem).__name__})")
            new_css.append((key, local))
        elem.default_js = new_js
        elem.default_css = new_css
    return m


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(path: Path) -> str:
    text = path.read_text("utf-8")

    def repl(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith("data:") or ref.startswith("#"):
            return match.group(0)
        target = (path.parent / ref.split("?")[0].split("#")[0]).resolve()
        if not target.is_file():
            return "url()"
        return f"url({_data_uri(target)})"

    return re.sub(r"url\(([^)]+)\)", repl, text)


def standalone_html(m: folium.Map, *, vendor: Path = VENDOR_DIR) -> str:
    """Render ``m`` as one HTML file with every script and style inlined (offline)."""
    if not vendor_ready(vendor):
        raise LayerError(
            "地図用のブラウザ部品が用意されていません。",
            file=vendor,
            fix="bash scripts/setup.sh を実行してください。",
        )
    marker = "tomoni-local-asset:"
    localise(m, base_url=marker.rstrip("/"))
    html = m.get_root().render()

    def script(match: re.Match[str]) -> str:
        rel = match.group(1)[len(marker):].lstrip("/")
        body = (vendor / rel).read_text("utf-8").replace("</script", "<\\/script")
        return f"<script>{body}</script>"

    def style(match: re.Match[str]) -> str:
        rel = match.group(1)[len(marker):].lstrip("/")
        return f"<style>{_inline_css(vendor / rel)}</style>"

    html = re.sub(r'<script src="(' + re.escape(marker) + r'[^"]+)"></script>', script, html)
    html = re.sub(r'<link rel="stylesheet" href="(' + re.escape(marker) + r'[^"]+)"\s*/>', style,
                  html)
    if marker in html:  # pragma: no cover - a template we do not know
        raise RuntimeError("an asset link could not be inlined")
    return html


def main(argv: list[str] | None = None) -> int:
    """``python -m geo.outputs.assets [--from NODE_MODULES]``: copy the vendored files."""
    parser = argparse.ArgumentParser(prog="python -m geo.outputs.assets")
    parser.add_argument("--from", dest="source", default=str(NODE_MODULES))
    parser.add_argument("--to", dest="target", default=str(VENDOR_DIR))
    args = parser.parse_args(argv)

    try:
        copied = install_vendor(Path(args.source), Path(args.target))
    except LayerError as err:
        sys.stderr.write(f"エラー: {err.message}\n")
        return 2
    sys.stdout.write(f"[setup] vendored {len(copied)} browser assets into {args.target}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
