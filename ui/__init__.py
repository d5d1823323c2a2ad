"""The thin Streamlit UI: pages only call ``geo``/``layers`` functions."""
