"""The site's proposed title and the AWS names derived from its slug (`ctsite init`)."""

from __future__ import annotations

from pathlib import Path

from ctsite.compile.naming import FALLBACK_TITLE, aws_names, humanise, propose_title, slug


def test_the_first_folder_that_names_the_study_gives_the_title(tmp_path: Path) -> None:
    study = tmp_path / "cin_sting-2023"
    assert propose_title(study / "results", study / "results") == "Cin sting 2023"
    assert propose_title(study / "data" / "results", tmp_path / "output") == FALLBACK_TITLE
    assert propose_title(study / "out", tmp_path / "My Atlas") == "My Atlas"
    assert humanise("lung__tumour..atlas") == "Lung tumour atlas"


def test_slugs_fit_every_aws_name() -> None:
    assert slug("Lung Tumour Atlas") == "lung-tumour-atlas"
    assert slug("Études des tumeurs (2024)") == "etudes-des-tumeurs-2024"
    assert slug("肿瘤") == "my-site"  # nothing ASCII left: a placeholder slug
    long = slug("a very long study name that goes on and on " * 3)
    assert len(long) <= 30 and not long.endswith("-")
    names = aws_names(long)
    assert len(names.staging_environment) <= 40  # the EB limit for an environment's name
    assert names.environment == f"{long}-env" and names.efs_name == f"{long}-data"
