"""Loader folder; this file only makes `pip install -e .` work (the Salt loader ignores it)."""
