"""Text for XML files (GPX): escaped, and without the characters XML 1.0 forbids.

A NUL or another control character in a team's or a route's name (a pasted list, a
hostile upload) made the GPX invalid: a GPS unit or phone app refused the whole file.
XML 1.0 allows tab, LF, CR and the characters from U+0020 on, less the surrogates and
U+FFFE/U+FFFF; everything else is dropped here, and ``& < > "`` are escaped.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

__all__ = ["xml_text"]

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """``value`` as XML character data or an attribute value (quotes escaped too)."""
    return escape(_FORBIDDEN.sub("", str(value)), {'"': "&quot;"})
