"""ともにマップ — the interactive app (Streamlit).

The map pages arrive with the maps issue; until then the main job is
``tomoni demo`` (see README).
"""
