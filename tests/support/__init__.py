"""Test helpers and fixture plugins shared across test folders (see tests/conftest.py)."""
