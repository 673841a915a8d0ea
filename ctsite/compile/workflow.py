"""The compile workflow: ContactTracing results → the versioned store (`ctsite compile`).

It is a release step too, so every flag of `ctsite compile` is a parameter here (`release
--force compile` passes force=True). The compile internals live beside it in `ctsite.compile`;
the precomputed figures that follow it are `ctsite.figures.precomputed`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ctsite.config import Settings
from ctsite.deploy.reporter import NULL, Reporter


@dataclasses.dataclass(frozen=True)
class CompileSummary:
    status: str  # "built" or "up-to-date"
    path: Path
    seconds: float
    created: str | None
    conditions: list[str]
    cell_types: int
    genes: int | None
    warnings: list[str]


def _summary(
    status: str, path: Path, seconds: float, manifest: dict[str, Any], warnings: list[str]
) -> CompileSummary:
    conditions = manifest.get("conditions") or []
    names = [str(c.get("name", c)) if isinstance(c, dict) else str(c) for c in conditions]
    return CompileSummary(
        status,
        path,
        seconds,
        manifest.get("created"),
        names,
        len(manifest.get("cell_types") or []),
        manifest.get("n_genes"),
        list(warnings),
    )


def store_up_to_date(s: Settings) -> bool:
    """Whether `s.compiled_path` holds a compile of exactly the configured inputs, identity and
    `[figures]` choices (what `compile` would skip; `release` plans with it)."""
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.compile.fingerprint import up_to_date
    from ctsite.identity import figure_choices, site_identity

    spec = parse_data_spec(s.data, s.root)
    return up_to_date(spec, s.compiled_path, site_identity(s), figure_choices(s)) is not None


def compile_data(
    s: Settings,
    *,
    interactions: Path | None = None,
    expression: Path | None = None,
    conditions: Sequence[str] = (),
    combined: Sequence[str] = (),
    force: bool = False,
    reporter: Reporter = NULL,
) -> CompileSummary:
    """Compile the configured dataset (with these overrides) into s.compiled_path."""
    from ctsite.compile.dataset import parse_data_spec
    from ctsite.compile.fingerprint import up_to_date
    from ctsite.identity import figure_choices, site_identity

    identity = site_identity(s)
    figures = figure_choices(s)
    spec = parse_data_spec(
        s.data,
        s.root,
        interactions=interactions,
        expression=expression,
        conditions=conditions,
        combined=combined,
    )
    current = None if force else up_to_date(spec, s.compiled_path, identity, figures)
    if current is not None:  # answered without importing the scientific stack
        from ctsite.compile.destination import tidy

        tidy(s.compiled_path)  # what killed compiles left beside the store
        return _summary("up-to-date", s.compiled_path, 0.0, current, [])
    from ctsite.compile.build import compile_store

    try:
        result = compile_store(
            spec,
            s.compiled_path,
            jobs=max(1, s.compile_jobs),
            block_rows=s.compile_block_rows,
            keep_versions=s.compile_keep_versions,
            force=force,
            progress=reporter.task,
            advance=reporter.advance,
            identity=identity,
            figures=figures,
        )
    finally:
        reporter.done()
    for message in result.warnings:
        reporter.warn(message)
    return _summary(result.status, result.path, result.seconds, result.manifest, result.warnings)
