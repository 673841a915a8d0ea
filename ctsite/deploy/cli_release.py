"""CLI commands `release`, `logs`, `restart`, `images` and `alerts subscribe/list`.

Options are parsed and results rendered here; the work is in `ctsite.deploy.release` (plan and
runner), `release_steps` (observing and running the steps), `chores` (logs, restart),
`ecr_images` and `alerts`. AWS clients come from the same factory as the Elastic Beanstalk
commands (tests inject stubbed ones through `ctx.obj["aws_client"]`).
"""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer

from ctsite.console import console, err_console, warn
from ctsite.errors import CtsiteError

Region = Annotated[str | None, typer.Option("--region", help="AWS region (default: aws_region).")]
Environment = Annotated[
    str | None, typer.Option("--env", help="EB environment name (default: eb_environment).")
]


def say(text: str) -> None:
    console.print(text, soft_wrap=True)


def _setup(ctx: typer.Context, **overrides: Any) -> tuple[Any, Any]:
    """(settings, client factory) for a command."""
    from ctsite.cli import settings
    from ctsite.deploy.cli_beanstalk import _client_factory

    s = settings(**overrides)
    return s, _client_factory(ctx, s)


def _beanstalk(s: Any, client: Any) -> Any:
    from ctsite.deploy.beanstalk import Beanstalk

    return Beanstalk(client("elasticbeanstalk"), client("s3"), s.eb_application, s.eb_environment)


def _dollars(x: float) -> str:
    return f"${x:.2f}" if x >= 0.01 or x == 0 else "<$0.01"


# ---------------------------------------------------------------- release


def _doctor(s: Any, client: Any) -> list[str]:
    """Run the preflight checks, show the failures; return the names of the failed checks."""
    from rich.markup import escape

    from ctsite.deploy.doctor import run_checks

    checks = run_checks(s, client)
    failed = [c for c in checks if not c.ok]
    for check in failed:
        fix = f" [yellow]→ {escape(check.fix)}[/]" if check.fix else ""
        say(f"[red]✗[/] {check.name}: {escape(check.detail)}{fix}")
    say(f"doctor: {len(checks) - len(failed)} of {len(checks)} checks passed")
    return [c.name for c in failed]


def _print_plan(decisions: list[Any], cost: float) -> None:
    from rich.markup import escape

    say("[bold]release plan[/]")
    for d in decisions:
        mark = "[bold green]run [/]" if d.run else "[dim]skip[/]"
        price = f" (est. {_dollars(d.cost)})" if d.run and d.cost else ""
        say(f"  {mark} {d.step:<11} {escape(d.why)}{price}")
    say(
        f"estimated AWS cost of this release: {_dollars(cost)} (Transfer Family server time and "
        "data; the other steps create no billable resources)"
    )


def _summary(
    results: list[Any], started: float, env: dict[str, Any] | None, failed: str = ""
) -> None:
    from ctsite.deploy.cli_beanstalk import _url

    for r in results:
        detail = f": {r.detail}" if r.detail else ""
        say(f"  [green]✓[/] {r.step} ({r.seconds:.1f} s){detail}")
    ran = ", ".join(r.step for r in results) or "nothing"
    elapsed = time.monotonic() - started
    if failed:
        say(f"  [red]✗[/] {failed}")
        say(f"[bold red]release stopped[/] after {elapsed:.1f} s; completed: {ran}")
        return
    say(f"[bold]release done[/] in {elapsed:.1f} s; ran: {ran}")
    if env:
        say(f"deployed version {env.get('VersionLabel')}: {_url(env)}")


def release(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print the plan; change nothing.")
    ] = False,
    force: Annotated[
        list[str] | None,
        typer.Option("--force", help="Run this step even if unchanged (repeatable)."),
    ] = None,
    message: Annotated[
        str, typer.Option("--message", "-m", help="Description of a new EB version.")
    ] = "",
    label: Annotated[
        str | None,
        typer.Option("--label", help="Label of a new EB version (default v<ver>-<git>-<time>)."),
    ] = None,
    network: Annotated[
        str | None, typer.Option(help="Network mode of the image build's RUN steps (e.g. host).")
    ] = None,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between EB polls.")] = 5.0,
    region: Region = None,
) -> None:
    """Run compile → figures → build-push → upload-data → deploy, skipping what is unchanged."""
    from ctsite.deploy import release as rel
    from ctsite.deploy.beanstalk import check_label
    from ctsite.deploy.release_steps import Steps, observe

    started = time.monotonic()
    if label is not None:
        check_label(label)
    if poll <= 0:
        raise CtsiteError("--poll must be positive", exit_code=2)
    s, client = _setup(ctx, aws_region=region)
    failed = _doctor(s, client)
    early = rel.blocking_checks(failed, [rel.Decision(step, True, "") for step in rel.STEPS])
    early = [name for name in early if name != "Docker engine"]
    if early:
        raise CtsiteError(
            f"release stopped before it started: doctor check(s) failed: {', '.join(early)}",
            hint="fix them (see above; `ctsite doctor`) and release again",
        )
    observed = observe(s, client)
    decisions = rel.plan(
        observed, force or (), rel.Rates(s.transfer_hourly_cost, s.transfer_gb_cost)
    )
    _print_plan(decisions, rel.total_cost(decisions))
    blocking = rel.blocking_checks(failed, decisions)
    if blocking:
        raise CtsiteError(
            f"release stopped before it started: doctor check(s) failed: {', '.join(blocking)}",
            hint="fix them (see above; `ctsite doctor`) and release again",
        )
    if not any(d.run for d in decisions):
        say("[green]nothing to do[/]: everything is up to date")
        return
    if dry_run:
        say("dry run: nothing was changed")
        return
    if not yes:
        if not sys.stdin.isatty():
            raise CtsiteError("confirmation needed", hint="pass --yes to release without asking")
        if not typer.confirm("run this release?", default=False):
            raise typer.Abort()
    steps = Steps(s, client, observed.context_hash, network, message, poll, label)

    def announce(d: Any) -> None:
        err_console.rule(f"[bold]{d.step}[/] — {d.why}")

    try:
        results = rel.run(decisions, steps.actions(), on_start=announce)
    except rel.ReleaseFailed as exc:
        _summary(exc.done, started, None, failed=exc.step)
        raise
    env = steps.deployed or None
    if env is None:
        try:
            env = _beanstalk(s, client).environment()
        except CtsiteError as exc:
            warn(exc.message)
    _summary(results, started, env)


# ---------------------------------------------------------------- logs and restart


def _print_logs(logs: list[Any], file: str | None, seen: dict[tuple[str, str], list[str]]) -> int:
    """Print what is new in each instance's (selected) sections; returns the lines printed."""
    from ctsite.deploy.chores import new_lines, sections, select

    printed = 0
    for log in logs:
        chosen = select(sections(log.text), file)
        if file and not chosen:
            warn(f"{log.instance}: no {file} in its tail logs")
        for path, lines in chosen:
            key = (log.instance, path)
            fresh = new_lines(seen.get(key, []), lines)
            seen[key] = lines
            if not fresh:
                continue
            err_console.rule(f"{log.instance} {path}".strip())
            for line in fresh:
                console.print(line, markup=False, highlight=False, soft_wrap=True)
            printed += len(fresh)
    return printed


def logs(
    ctx: typer.Context,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Repeat while a deployment runs.")
    ] = False,
    file: Annotated[
        str | None, typer.Option("--file", help="Only this log file (e.g. eb-engine.log).")
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between --follow fetches.")] = 10.0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the logs.")] = 120.0,
    region: Region = None,
    env: Environment = None,
) -> None:
    """Print the environment's recent logs (EB tail logs: no ssh needed)."""
    from ctsite.deploy.chores import BUSY, tail_logs

    if interval <= 0 or timeout <= 0:
        raise CtsiteError("--interval and --timeout must be positive", exit_code=2)
    s, client = _setup(ctx, aws_region=region, eb_environment=env)
    bs = _beanstalk(s, client)
    seen: dict[tuple[str, str], list[str]] = {}
    while True:
        _print_logs(tail_logs(bs, timeout, poll_s=min(3.0, interval)), file, seen)
        if not follow:
            return
        status = bs.environment().get("Status")
        if status not in BUSY:
            say(f"[dim]{s.eb_environment} is {status}: no deployment running, stopped following[/]")
            return
        time.sleep(interval)


def restart_cmd(
    ctx: typer.Context,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between status polls.")] = 5.0,
    region: Region = None,
    env: Environment = None,
) -> None:
    """Restart the app servers so the site reloads new data."""
    from ctsite.deploy.chores import restart

    if poll <= 0:
        raise CtsiteError("--poll must be positive", exit_code=2)
    s, client = _setup(ctx, aws_region=region, eb_environment=env)
    say(f"restarting the app servers of {s.eb_environment}")
    final = restart(_beanstalk(s, client), poll_s=poll)
    say(f"[green]✓[/] {s.eb_environment} is {final.get('Status')}, health {final.get('Health')}")


def restart_after_upload(ctx: typer.Context, s: Any) -> None:
    """`upload-data --restart`: restart the app servers (clients injected like the others)."""
    from ctsite.deploy.chores import restart
    from ctsite.deploy.cli_beanstalk import _client_factory

    say(f"restarting the app servers of {s.eb_environment} to load the new data")
    final = restart(_beanstalk(s, _client_factory(ctx, s)))
    say(f"[green]✓[/] {s.eb_environment} is {final.get('Status')}, health {final.get('Health')}")


# ---------------------------------------------------------------- images


def _deployed_refs(s: Any, client: Any, strict: bool) -> list[str]:
    """Image references in use: Dockerrun.aws.json's and the running version's."""
    from ctsite.deploy import dockerrun, ecr_images

    refs = []
    path = dockerrun.path_for(s)
    if path.exists():
        refs.append(str((dockerrun.read(path).get("Image") or {}).get("Name", "")))
    try:
        bs = _beanstalk(s, client)
        label = bs.environment().get("VersionLabel")
        if label:
            name = ecr_images.running_image(bs.eb, bs.s3, s.eb_application, str(label))
            if name:
                refs.append(name)
            elif strict:
                raise CtsiteError(f"cannot tell which image version {label} runs")
    except CtsiteError as exc:
        if strict:
            raise CtsiteError(
                f"refusing to prune: cannot tell which image is deployed ({exc.message})",
                hint=exc.hint or "fix the Elastic Beanstalk settings and retry",
            ) from None
        warn(f"deployed image unknown: {exc.message}")
    return [r for r in refs if r]


def images(
    ctx: typer.Context,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete untagged and old images (never the deployed).")
    ] = False,
    keep: Annotated[int, typer.Option("--keep", help="Tagged images to keep with --prune.")] = 10,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what --prune does.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting.")] = False,
    region: Region = None,
) -> None:
    """List the repository's images (tags, digest, size, deployed); --prune old/untagged ones."""
    from rich.table import Table

    from ctsite.deploy import ecr_images
    from ctsite.deploy.cli_beanstalk import _time

    s, client = _setup(ctx, aws_region=region)
    repo = ecr_images.repo_for(s.image_repository)
    found = ecr_images.list_images(repo, client)
    refs = _deployed_refs(s, client, strict=prune)
    table = Table(title=f"images of {s.image_repository}")
    for column in ("digest", "tags", "size", "pushed", "deployed"):
        table.add_column(column)
    for image in found:
        table.add_row(
            image.digest[:19],
            ", ".join(image.tags) or "(untagged)",
            f"{image.size / 1e6:,.1f} MB",
            _time(image.pushed),
            "yes" if ecr_images.is_deployed(image, refs, s.image_repository) else "",
        )
    console.print(table)
    if not prune:
        return
    doomed = ecr_images.prune_plan(found, keep, refs, s.image_repository)
    if not doomed:
        say(f"nothing to prune (keeping the newest {keep} tagged images and the deployed one)")
        return
    for image in doomed:
        say(f"{'would delete' if dry_run else 'delete'} {image.digest} {', '.join(image.tags)}")
    if dry_run:
        return
    if not yes and sys.stdin.isatty() and not typer.confirm(f"delete {len(doomed)} image(s)?"):
        raise typer.Abort()
    if not yes and not sys.stdin.isatty():
        raise CtsiteError("confirmation needed", hint="pass --yes to delete without asking")
    deleted = ecr_images.delete(repo, client, doomed)
    say(f"deleted {deleted} image(s)")


# ---------------------------------------------------------------- alerts


def _topic(s: Any, client: Any, topic: str | None) -> str:
    from ctsite.deploy import alerts

    arn = topic or s.eb_notification_topic
    if arn:
        return alerts.check_topic_arn(arn)
    return alerts.environment_topic(client("elasticbeanstalk"), s.eb_application, s.eb_environment)


Topic = Annotated[
    str | None, typer.Option("--topic", help="SNS topic ARN (default: the environment's).")
]


def alerts_subscribe(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="E-mail address to notify.")],
    topic: Topic = None,
    region: Region = None,
    env: Environment = None,
) -> None:
    """Subscribe an e-mail address to the environment's alerts."""
    from ctsite.deploy import alerts

    s, client = _setup(ctx, aws_region=region, eb_environment=env)
    arn = _topic(s, client, topic)
    sub, created = alerts.subscribe(client("sns"), arn, email)
    if not created:
        say(f"{sub.endpoint} is already subscribed (confirmed) to {arn}")
        return
    say(f"subscribed {sub.endpoint} to {arn}")
    say(
        "[yellow]the recipient must confirm[/]: AWS sent them an e-mail with a confirmation "
        "link; no alert reaches them until they click it (see `ctsite alerts list`)"
    )


def alerts_list(
    ctx: typer.Context, topic: Topic = None, region: Region = None, env: Environment = None
) -> None:
    """List the subscriptions of the environment's alert topic."""
    from ctsite.deploy import alerts

    s, client = _setup(ctx, aws_region=region, eb_environment=env)
    arn = _topic(s, client, topic)
    subs = alerts.subscriptions(client("sns"), arn)
    say(f"alerts topic {arn}")
    if not subs:
        say("no subscriptions (add one with `ctsite alerts subscribe EMAIL`)")
    for sub in subs:
        state = "confirmed" if sub.confirmed else "[yellow]pending confirmation[/]"
        say(f"  {sub.protocol:<6} {sub.endpoint}  {state}")


def register(app: typer.Typer) -> None:
    """Add `release`, `logs`, `restart`, `images` and `alerts` to the main app."""
    app.command("release")(release)
    app.command("logs")(logs)
    app.command("restart")(restart_cmd)
    app.command("images")(images)
    alerts_app = typer.Typer(help="E-mail alerts of the environment (SNS).", no_args_is_help=True)
    alerts_app.command("subscribe")(alerts_subscribe)
    alerts_app.command("list")(alerts_list)
    app.add_typer(alerts_app, name="alerts")
