"""What we *compute and draw*: network engine, coverage, siting, maps, exports, CLI.

``geo`` builds on ``layers`` and never imports streamlit.
"""
