"""Internal names a person must never read — in the report, on the app's pages. Extended
whenever one is found."""

from __future__ import annotations

import re

INTERNAL_WORDS = ("distance_m", "uncovered", "area_layer", "milp", "MILP", "2SFCA", "EPSG", "as_normal",
                  "after:B", "before:B", "None", "nan", "empty", "emergency_site", "tomoni", "--ratios",
                  "_m2", "True", "False", "usable", "in_zone", "not_designated", "(boundaries)",
                  "Select all", "Upload", "200MB per file")


def internal_words_in(text: str) -> list[str]:
    """The internal names that occur in ``text`` as words."""
    return [w for w in INTERNAL_WORDS if re.search(rf"(?<![\w:]){re.escape(w)}(?![\w])", text)]
