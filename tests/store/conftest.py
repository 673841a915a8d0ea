"""The store tests compile the compile tests' hand-built dataset (the same known answers)."""

from __future__ import annotations

from tests.compile.conftest import small_dataset, write_deg, write_expression, write_lr

__all__ = ["small_dataset", "write_deg", "write_expression", "write_lr"]
