"""CSV text that a spreadsheet opens as data, never as a formula.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return — or has
such a start after a line break inside it, where a spreadsheet may begin a new row — is
read by Excel and LibreOffice as a formula (``=HYPERLINK(…)``, ``@SUM(…)``): a
place named ``=cmd|' /C calc'!A0`` would run something on the planner's PC.
Following the OWASP rule, such text cells get a leading apostrophe (shown as
text, not stored in the value a spreadsheet computes with).  Numbers stay
numbers: numeric columns are untouched, and so is text that is just a signed
number (``-3``, ``+1.5``).  Every CSV the project writes goes through
:func:`csv_text`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMULA_START", "csv_text", "neutralise"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: object) -> object:
    """The cell as a spreadsheet should show it: text starting a formula gets a ``'``, and so
    does each line after a line break inside it (a spreadsheet may start a new row at a bare
    CR or LF); a bare CR becomes LF, so the writer quotes the cell."""
    if not isinstance(value, str):
        return value
    if "\r" in value or "\n" in value:
        lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(str(_one_line(line)) for line in lines)
    return _one_line(value)


def _one_line(value: str) -> str:
    if value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd  # imported when a table is written: the CLI starts without it

    from geo.outputs.labels import protected_text

    out = frame.copy()
    for col in out.columns:
        out[col] = protected_text(out[col])
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            # one vectorised look for a formula start; only those cells are checked one by one
            text = out[col].astype(str)
            risky = (text.str.startswith(FORMULA_START) | text.str.contains("[\r\n]")).to_numpy(bool)
            if risky.any():
                values = out[col].astype(object).to_numpy(copy=True)
                values[risky] = [neutralise(v) for v in values[risky]]
                out[col] = values
    out.columns = [neutralise(c) if isinstance(c, str) else c for c in out.columns]
    if out.index.dtype == object:
        out.index = out.index.map(neutralise)
    return out


def csv_text(frame: pd.DataFrame, *, index: bool = False) -> str:
    """``frame.to_csv`` with every formula-starting text cell neutralised."""
    import pandas as pd

    return _safe(pd.DataFrame(frame)).to_csv(index=index)
