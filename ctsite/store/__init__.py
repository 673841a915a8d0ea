"""The compiled store: its format (`format`), the reader (`reader.Store`).

`Store` is re-exported lazily, so importing `ctsite.store.format` never pulls in pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctsite.store.reader import Store

__all__ = ["Store"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from ctsite.store.reader import Store

        return Store
    raise AttributeError(f"module 'ctsite.store' has no attribute {name!r}")
