"""The release plan: every changed/unchanged combination of compile, image, data and bundle,
each decision (run/skip and its reason) asserted, plus the edge cases and the doctor gate."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from ctsite.deploy.pricing import Rates
from ctsite.deploy.release_plan import (
    STEPS,
    Decision,
    Observed,
    ReleaseFailed,
    StepResult,
    blocked_steps,
    blocking_checks,
    plan,
    run,
    total_cost,
)
from ctsite.errors import CtsiteError

UNCHANGED = Observed()


def observed(compile_: bool, image: bool, data: bool, bundle: bool) -> Observed:
    """The state where exactly the named inputs changed since the last release."""
    return dataclasses.replace(
        UNCHANGED,
        compile_up_to_date=not compile_,
        context_hash="ctx-new" if image else "ctx",
        upload_files=3 if data else 0,
        upload_bytes=3_000_000 if data else 0,
        data_bytes=50_000_000,
        bundle_sha256="bundle-new" if bundle else "bundle",
    )


def by_step(decisions: list[Decision]) -> dict[str, Decision]:
    assert [d.step for d in decisions] == list(STEPS)
    return {d.step: d for d in decisions}


@pytest.mark.parametrize(
    ("compile_", "image", "data", "bundle"), list(itertools.product([False, True], repeat=4))
)
def test_every_combination(compile_: bool, image: bool, data: bool, bundle: bool) -> None:
    d = by_step(plan(observed(compile_, image, data, bundle)))

    assert d["compile"].run is compile_
    assert d["compile"].why == (
        "inputs or parameters changed (or no compiled store)"
        if compile_
        else "inputs and parameters unchanged (compile manifest)"
    )
    assert d["figures"].run is compile_
    assert d["figures"].why == (
        "the store is recompiled" if compile_ else "store unchanged and its figures present"
    )
    assert d["build-push"].run is image
    if image:
        assert d["build-push"].why == "image inputs changed (build-context hash)"
    else:
        assert d["build-push"].why.startswith("image inputs unchanged; sha256:0 already pushed")

    uploading = compile_ or data
    assert d["upload-data"].run is uploading
    if compile_:
        assert d["upload-data"].why.startswith("the store changes in this release")
        assert d["upload-data"].cost == pytest.approx(Rates().upload(50_000_000))
    elif data:
        assert d["upload-data"].why.startswith("3 file(s) (3.0 MB) to send")
        assert d["upload-data"].cost == pytest.approx(Rates().upload(3_000_000))
    else:
        assert d["upload-data"].why == (
            "the local store equals the manifest of the last successful upload"
        )
        assert d["upload-data"].cost == 0

    deploying = image or bundle
    assert d["deploy"].run is deploying
    if image:
        assert d["deploy"].why == "a new image is pushed"
    elif bundle:
        assert d["deploy"].why.startswith("the source bundle changed")
    else:
        assert d["deploy"].why == "image and bundle unchanged; v1 is running"

    assert d["restart"].run is (uploading and not deploying)
    if deploying:
        assert d["restart"].why == "the deployment restarts the app"
    elif uploading:
        assert d["restart"].why == "new data uploaded: the app servers reload it"
    else:
        assert d["restart"].why == "no new data"

    # Only the Transfer server costs money, and only when data is uploaded.
    assert total_cost(plan(observed(compile_, image, data, bundle))) == pytest.approx(
        d["upload-data"].cost
    )
    assert (d["upload-data"].cost > 0) is uploading


def test_nothing_changed_skips_everything() -> None:
    assert not any(d.run for d in plan(UNCHANGED))
    assert total_cost(plan(UNCHANGED)) == 0


def test_no_data_section_never_compiles_but_builds_missing_figures() -> None:
    d = by_step(plan(dataclasses.replace(UNCHANGED, has_data_spec=False, figures_present=False)))
    assert not d["compile"].run
    assert "no [data] section" in d["compile"].why
    assert d["figures"].run and d["figures"].why == "the store has no precomputed figures"
    assert d["upload-data"].run  # the figures change the store


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"recorded_context_hash": None}, "no image pushed by a release yet"),
        ({"recorded_digest": None}, "no image pushed by a release yet"),
        ({"repository": "other/repo"}, "image_repository changed to other/repo"),
        ({"digest_in_registry": False}, "the pushed image sha256:0 is no longer there"),
    ],
)
def test_build_push_reasons(change: dict, why: str) -> None:
    d = by_step(plan(dataclasses.replace(UNCHANGED, **change)))
    assert d["build-push"].run and d["build-push"].why == why
    assert d["deploy"].run  # a new image is always deployed


def test_unverifiable_registry_is_said() -> None:
    d = by_step(plan(dataclasses.replace(UNCHANGED, digest_in_registry=None)))
    assert not d["build-push"].run
    assert d["build-push"].why.endswith("(registry not checked)")


def test_first_upload_and_deletions() -> None:
    d = by_step(plan(dataclasses.replace(UNCHANGED, upload_recorded=False, data_bytes=10**9)))
    assert d["upload-data"].run
    assert d["upload-data"].why.startswith("no record of a previous upload")
    assert d["upload-data"].cost == pytest.approx(Rates().upload(10**9))
    d = by_step(plan(dataclasses.replace(UNCHANGED, upload_deletions=2)))
    assert d["upload-data"].run and "2 to delete" in d["upload-data"].why


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"recorded_label": None}, "no deployment recorded by a release yet"),
        ({"recorded_bundle_sha256": None}, "no deployment recorded by a release yet"),
        ({"running_label": "v0"}, "the environment runs v0, not the last release's v1"),
    ],
)
def test_deploy_reasons(change: dict, why: str) -> None:
    d = by_step(plan(dataclasses.replace(UNCHANGED, **change)))
    assert d["deploy"].run and d["deploy"].why == why
    assert not d["restart"].run


@pytest.mark.parametrize("step", STEPS)
def test_force_runs_one_step(step: str) -> None:
    d = by_step(plan(UNCHANGED, force=[step]))
    assert d[step].run and d[step].why == f"forced (--force {step})"


def test_force_unknown_step_is_a_clear_error() -> None:
    with pytest.raises(CtsiteError, match=r"unknown step.*for --force: deploi") as info:
        plan(UNCHANGED, force=["deploi"])
    assert "compile, figures" in (info.value.hint or "")


def test_rates_come_from_settings() -> None:
    rates = Rates(hourly=1.0, per_gb=0.0)
    d = by_step(plan(dataclasses.replace(UNCHANGED, upload_files=1), rates=rates))
    assert d["upload-data"].cost == pytest.approx(300 / 3600)  # start-up time only


def test_doctor_gate() -> None:
    everything = [Decision(s, True, "") for s in STEPS]
    nothing = [Decision(s, False, "") for s in STEPS]
    assert blocking_checks(["compiled data"], everything) == []
    assert blocking_checks(["compiled data"], nothing) == ["compiled data"]
    assert blocking_checks(["Docker engine"], nothing) == []
    assert blocking_checks(["Docker engine"], everything) == ["Docker engine"]
    assert blocking_checks(["stray Transfer servers"], everything) == []
    assert blocking_checks(["EB environment", "AWS credentials"], nothing) == [
        "EB environment",
        "AWS credentials",
    ]


def test_runner_runs_in_order_and_stops_at_the_first_failure() -> None:
    decisions = plan(observed(True, True, True, True))
    calls: list[str] = []

    def ok(step: str):
        def action() -> str:
            calls.append(step)
            return f"{step} done"

        return action

    def broken() -> str:
        calls.append("upload-data")
        raise CtsiteError("SFTP refused", hint="check the key")

    actions = {s: ok(s) for s in STEPS}
    actions["upload-data"] = broken
    with pytest.raises(ReleaseFailed) as info:
        run(decisions, actions)
    assert calls == ["compile", "figures", "build-push", "upload-data"]
    assert info.value.step == "upload-data"
    assert [r.step for r in info.value.done] == ["compile", "figures", "build-push"]
    assert "release stopped at upload-data: SFTP refused" in info.value.message
    assert info.value.hint == "check the key"

    calls.clear()
    done = run(plan(observed(False, False, True, False)), {s: ok(s) for s in STEPS})
    assert calls == ["upload-data", "restart"]
    assert all(isinstance(r, StepResult) and r.detail.endswith("done") for r in done)


def test_runner_turns_os_errors_into_a_clear_stop() -> None:
    def refused() -> str:
        raise OSError("cannot connect to SFTP server 127.0.0.1:1: Connection refused")

    with pytest.raises(ReleaseFailed, match="stopped at upload-data: OSError: cannot connect"):
        run(plan(observed(False, False, True, False)), {"upload-data": refused})


def test_runner_turns_a_bug_into_a_clear_stop_too() -> None:
    def buggy() -> str:
        raise TypeError("'set' object does not support item assignment")

    with pytest.raises(ReleaseFailed, match="stopped at upload-data: TypeError: 'set'") as info:
        run(plan(observed(False, False, True, False)), {"upload-data": buggy})
    assert "please report it" in (info.value.hint or "")


def test_reading_back_is_priced_like_sending() -> None:
    rates = Rates()
    assert rates.upload(3_000_000, 2_000_000) == pytest.approx(rates.upload(5_000_000))
    assert rates.upload(3_000_000, 2_000_000) > rates.upload(3_000_000)
    d = by_step(plan(dataclasses.replace(UNCHANGED, upload_files=1, upload_read_back=10**9)))
    assert d["upload-data"].cost == pytest.approx(rates.upload(UNCHANGED.upload_bytes, 10**9))


def test_no_data_spec_and_no_store_is_not_used_as_is() -> None:
    """Without [data] and without a compiled store, compile is not planned as 'the store is used
    as is' (issue 24: the plan contradicted its own check)."""
    o = dataclasses.replace(UNCHANGED, has_data_spec=False, store_present=False)
    why = by_step(plan(o))["compile"].why
    assert "used as is" not in why and "no compiled store" in why


def test_unreadable_inputs_plan_their_step() -> None:
    d = by_step(plan(dataclasses.replace(UNCHANGED, bundle_sha256="")))
    assert d["deploy"].run and d["deploy"].why == "the source bundle could not be built"
    d = by_step(plan(dataclasses.replace(UNCHANGED, context_hash="")))
    assert d["build-push"].run and d["build-push"].why == "the image inputs could not be read"


def test_blocked_steps_puts_each_gap_beside_its_step() -> None:
    decisions = plan(UNCHANGED, force=["upload-data"])  # upload-data and restart run
    blocked = blocked_steps(
        [("EFS file system", "efs"), ("EB environment", "env"), ("new check", "x")],
        [("deploy", "no efs id")],
        decisions,
    )
    assert blocked == {
        "compile": ["x"],  # a check the plan does not know: before everything
        "upload-data": ["efs"],  # needed by upload-data (runs) and deploy (skipped)
        "deploy": ["no efs id"],
        "restart": ["env"],  # deploy is skipped: shown beside restart, which runs
    }
    assert list(blocked) == ["compile", "upload-data", "deploy", "restart"]
