"""What the data *are*: one module per layer kind, loaders, validation, CRS, demo region.

``layers`` never imports from ``geo`` and never imports streamlit.
"""

from layers.errors import LayerError

__all__ = ["LayerError"]
