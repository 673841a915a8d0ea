"""CLI commands `ctsite provision plan|apply|destroy|check` and `ctsite swap`.

Thin: options in, one workflow call (`ctsite.deploy.provision`: `stack`, `check`, `swap`), the
result rendered with rich (or as JSON). Tests inject a client factory through
`ctx.obj["aws_client"]`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ctsite.cli.console import console
from ctsite.cli.context import clients, settings, state
from ctsite.cli.render import Yes, confirm_own_names, esc, say
from ctsite.errors import CtsiteError

EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        help="production (default), staging, an EB environment name, registry "
        "(the ECR Public repository, us-east-1) or static (the static site on S3 + CloudFront).",
    ),
]
Region = Annotated[str | None, typer.Option("--region", help="AWS region (default: aws_region).")]
STYLE = {"add": "green", "modify": "yellow", "replace": "bold red", "remove": "red"}

provision_app = typer.Typer(
    help="The AWS hosting as a CloudFormation stack: plan, apply, destroy, check.",
    no_args_is_help=True,
)


def report(text: str) -> None:
    say(f"[dim]·[/] {esc(text)}")


def _setup(ctx: typer.Context, env: str | None, region: str | None) -> tuple[Any, Any, Any]:
    from ctsite.deploy.provision.environments import resolve_stack

    s = settings(ctx, aws_region=region)
    return s, resolve_stack(s, env), clients(ctx, s)


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise CtsiteError("confirmation needed", hint="pass --yes to go ahead without asking")
    if not typer.confirm(question):
        raise typer.Abort()


def _render(result: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    if result.unchanged:
        say(f"[green]✓[/] {result.stack_name}: nothing changed")
        _render_alarms(result.alarms)
        if result.hosting is not None:
            _render_hosting(result.hosting)
        return
    verb = "create" if result.new_stack else "update"
    table = Table(title=f"{verb} stack {result.stack_name}")
    for column in ("action", "resource", "type", "detail"):
        table.add_column(column)
    for row in result.rows:
        style = STYLE.get(row.action, "white")
        table.add_row(
            f"[{style}]{row.action}[/]", row.logical_id, row.resource_type, escape(row.detail)
        )
    console.print(table)
    for key, old, new in result.parameter_changes:
        say(f"parameter [bold]{key}[/]: {escape(old or '(unset)')} → {escape(new or '(unset)')}")
    if result.hosting is not None:
        _render_hosting(result.hosting)
    elif result.costs:
        for line in result.costs:
            say(f"  + ${line.monthly_usd:,.2f}/month  {escape(line.item)}")
        say(f"[bold]≈ ${result.monthly_usd:,.2f}/month[/] for what this adds (price_* settings)")
    else:
        say("no added running cost")
    _render_alarms(result.alarms)


def _render_hosting(cost: Any) -> None:
    """The static site's monthly cost: with CloudFront's always-free tier and at list prices,
    line by line, beside the Elastic Beanstalk site's estimate."""
    from ctsite.deploy.provision.static_cost import FREE_TIER

    traffic = cost.traffic
    say(
        f"traffic: {traffic.views:,} page views a month × {traffic.requests_per_view:g} "
        f"requests and {traffic.bytes_per_view / 1e6:,.2f} MB each "
        f"({esc(traffic.source)}; static_monthly_views sets the views)"
    )
    say(f"  {'list price':>11}  {'free tier':>11}")
    for line in cost.lines:
        say(f"  ${line.list_usd:>10,.4f}  ${line.monthly_usd:>10,.4f}  {esc(line.item)}")
    say(
        f"[bold]static site ≈ ${cost.monthly_usd:,.2f}/month[/] with {esc(FREE_TIER)}; "
        f"[bold]${cost.list_usd:,.2f}/month[/] at list prices without any free tier"
    )
    if cost.eb_monthly_usd is not None:
        say(
            f"Elastic Beanstalk site (one environment, price_* settings) ≈ "
            f"${cost.eb_monthly_usd:,.2f}/month"
        )


def _render_alarms(tier: Any) -> None:
    """The stack's alarm metrics against CloudWatch's free tier (the region's others counted)."""
    from ctsite.deploy.pricing import FREE_ALARM_METRICS

    if tier is None:
        return
    count = f"{tier.stack} alarm metric(s) in this stack + {tier.others} other(s) in the region"
    if tier.within_free_tier:
        say(f"alarms: {count} = {tier.total} of CloudWatch's free {FREE_ALARM_METRICS}")
    else:
        say(
            f"[yellow]alarms: {count} = {tier.total}, over CloudWatch's free "
            f"{FREE_ALARM_METRICS}[/]: ≈ ${tier.monthly_usd:,.2f}/month"
        )


@provision_app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    env: EnvOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            help="--env static: price the views of this `export-site` folder "
            "(default: the static_* estimate).",
        ),
    ] = None,
    region: Region = None,
) -> None:
    """Show what apply would change (a CloudFormation change set) and what it adds per month."""
    from ctsite.deploy.provision import stack

    state(ctx).json = as_json  # a refusal is a JSON error document too
    s, target, client = _setup(ctx, env, region)
    traffic = None
    if export is not None:
        from ctsite.deploy.provision.environments import STATIC
        from ctsite.deploy.provision.static import export_traffic

        if target.name != STATIC:
            raise CtsiteError("--export prices the static site: add --env static", exit_code=2)
        traffic = export_traffic(s, export)
    result = stack.plan_environment(
        s, target, client, report=_quiet if as_json else report, traffic=traffic
    )
    stack.discard(stack.cloudformation(client, target), result)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        _render(result)


def _quiet(_: str) -> None:
    return None


@provision_app.command("apply")
def apply_cmd(
    ctx: typer.Context,
    env: EnvOption = None,
    yes: Yes = False,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between event polls.")] = 5.0,
    region: Region = None,
) -> None:
    """Plan, confirm, then execute the change set, streaming the stack events."""
    from ctsite.deploy.provision import stack
    from ctsite.deploy.provision.environments import STATIC_TEMPLATE

    if poll <= 0:
        raise CtsiteError("--poll must be positive", exit_code=2)
    s, target, client = _setup(ctx, env, region)
    if target.template != STATIC_TEMPLATE:  # the static stack writes into none of them
        confirm_own_names(s, stack.NAMES, yes)  # before the plan's change set is made
    cfn = stack.cloudformation(client, target)
    result = stack.plan_environment(s, target, client, report=report)
    _render(result)
    if result.unchanged:
        return
    try:
        _confirm(f"apply these changes to {result.stack_name}?", yes)
    except (typer.Abort, CtsiteError):
        stack.discard(cfn, result)
        raise
    outcome = stack.apply(cfn, result, report=report, poll_s=poll)
    say(f"[green]✓[/] {outcome.stack_name} is {outcome.status}")
    if result.hosting is not None:
        for key, value in stack.site_outputs(cfn, outcome.stack_name).items():
            say(f"  {esc(key)}: {esc(value)}")
    made = outcome.file_system_id
    if made and made != s.efs_file_system_id:  # upload-data, deploy and release need it
        line = f'EFS file system {made}: set [efs] file_system_id = "{made}" in ctsite.toml'
        say(esc(line))


@provision_app.command("destroy")
def destroy_cmd(
    ctx: typer.Context,
    env: Annotated[
        str, typer.Option("--env", help="The environment to delete (staging, a name...).")
    ] = "staging",
    confirm: Annotated[
        str | None,
        typer.Option("--confirm", help="Production only: its EB environment name, typed."),
    ] = None,
    yes: Yes = False,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between event polls.")] = 5.0,
    region: Region = None,
) -> None:
    """Delete an environment's stack (EFS, EB application, ECR repository and the static
    site's bucket are kept)."""
    from ctsite.deploy.provision import stack
    from ctsite.deploy.provision.environments import STATIC_TEMPLATE

    _, target, client = _setup(ctx, env, region)
    if target.production and confirm is None and sys.stdin.isatty():
        confirm = typer.prompt(f"type {target.eb_environment} to destroy production")
    elif not target.production:
        _confirm(
            f"delete the stack {target.stack_name} ({target.eb_environment or target.name})?", yes
        )
    cfn = stack.cloudformation(client, target)
    kept = ""
    if target.template == STATIC_TEMPLATE and cfn.stack(target.stack_name) is not None:
        kept = stack.site_outputs(cfn, target.stack_name).get("BucketName", "")
    outcome = stack.destroy(cfn, target, confirm, report=report, poll_s=poll)
    say(f"[green]✓[/] {outcome.stack_name}: {outcome.status}")
    if kept and outcome.status == "DELETE_COMPLETE":
        say(
            f"  the bucket {esc(kept)} is kept (it holds the published site): "
            f"`aws s3 rb s3://{esc(kept)} --force` deletes it once nothing needs it"
        )


@provision_app.command("check")
def check_cmd(ctx: typer.Context, env: EnvOption = None, region: Region = None) -> None:
    """Compare the live environment with the template; one line per difference, with its fix."""
    from rich.markup import escape

    from ctsite.deploy.provision.check import check_environment
    from ctsite.deploy.provision.environments import STATIC_TEMPLATE

    s, target, client = _setup(ctx, env, region)
    if target.template == STATIC_TEMPLATE:
        from ctsite.aws.iam import identity
        from ctsite.deploy.provision.static_check import check_static

        account = str(identity(client)["Account"])
        diffs = check_static(client, target, account, s.aws_region)
        name = target.stack_name
    elif not target.eb_environment:
        raise CtsiteError(f"{target.name} is not an environment: nothing to check", exit_code=2)
    else:
        diffs = check_environment(s, target, client)
        name = target.eb_environment
    for diff in diffs:
        say(f"[yellow]≠[/] {escape(diff.line())}")
    if diffs:
        raise CtsiteError(
            f"{name} differs from the template in {len(diffs)} place(s)",
            hint="run the fixes above, or provision the environment",
        )
    say(f"[green]✓[/] {name} matches the template")


def swap_cmd(
    ctx: typer.Context,
    staging: Annotated[
        str, typer.Option("--env", help="The environment to make public (default: staging).")
    ] = "staging",
    yes: Yes = False,
    region: Region = None,
) -> None:
    """Exchange the URLs of production and staging (Elastic Beanstalk CNAME swap)."""
    from ctsite.deploy.provision import swap
    from ctsite.deploy.provision.environments import resolve_environment

    s, target, client = _setup(ctx, staging, region)
    production = resolve_environment(s, "production")
    if target.production:
        raise CtsiteError("--env must name the staging environment, not production", exit_code=2)
    _confirm(f"make {target.eb_environment} the public site?", yes)
    result = swap.swap(client, s.eb_application, production.eb_environment, target.eb_environment)
    say(f"[green]✓[/] {result.now_public} now serves {result.public_url}")
    say(f"  {result.now_staging} is now at {result.staging_url}")


def register(app: typer.Typer) -> None:
    """Add `provision plan|apply|destroy|check` and `swap` to the main app."""
    app.add_typer(provision_app, name="provision")
    app.command("swap")(swap_cmd)
