"""The workflow of `ctsite retire`: move a live Elastic Beanstalk site to the static site.

1. **Plan** (reads only): the production environment's address (its CNAME, or the address the
   user gives), the store version it runs and that store's fingerprint (its `/healthz`, which
   the access gate leaves open), that version's folder in the local store (its fingerprint
   must be the live one's), the static hosting (`static_site.hosting`), the production stack
   and the EFS file system the stack made, and the monthly costs of both sites. With neither
   the stack nor the environment there is nothing to retire (a second run): one line.
2. **Publish** that version to the static hosting (`publish_site`: hashed files first, pages
   last, read back) and check the bucket now serves the live version.
3. **Delete**, only when `confirm` is the production environment's name (as `provision destroy`
   asks): the production stack (the EB environment and with it its Elastic IP, the mount
   targets, roles, alarms) and then the EFS file system, but only the one that stack made —
   a hand-made one is left alone, and named. Never while a staging stack shares the file
   system.

An `*.elasticbeanstalk.com` address stops answering once the environment is deleted, and its
name can later be taken by anyone; the result says so, so the CLI can warn before anything is
deleted. The way back is `ctsite provision apply` + `ctsite release`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

from ctsite import lifecycle
from ctsite.aws import efs
from ctsite.aws.beanstalk import Beanstalk
from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings
from ctsite.deploy.provision import environments, stack
from ctsite.deploy.provision.environments import Target
from ctsite.deploy.provision.stack import CostLine, eb_costs
from ctsite.deploy.provision.static_cost import StaticCost, Traffic, static_cost
from ctsite.deploy.reporter import NULL, Reporter
from ctsite.deploy.static_site.hosting import Hosting, static_hosting
from ctsite.deploy.static_site.publish_site import PublishResult, publish_site
from ctsite.deploy.static_site.source import SiteSource
from ctsite.errors import CtsiteError, StoreError
from ctsite.store import format as fmt
from ctsite.store.reader import Store

HEALTH_TIMEOUT_S = 20.0
EB_SUFFIX = ".elasticbeanstalk.com"


@dataclass(frozen=True)
class LiveSite:
    """What the running site says about itself (`/healthz`)."""

    url: str
    store_version: str
    fingerprint: str

    @property
    def eb_address(self) -> bool:
        """Whether the address is Elastic Beanstalk's own (gone, and claimable, once deleted)."""
        host = urllib.parse.urlsplit(self.url).hostname or ""
        return host.endswith(EB_SUFFIX)


@dataclass(frozen=True)
class RetirePlan:
    target: Target  # production
    live: LiveSite
    version_path: Path  # the live version's folder in the local store
    hosting: Hosting
    stack_exists: bool  # made by `provision apply`; without it ctsite deletes nothing
    file_system_id: str  # the EFS file system the stack made ("" : none, or a hand-made one)
    kept_file_system: str  # the configured file system the stack did not make (left alone)
    blockers: tuple[str, ...]  # why the EB site cannot be deleted by ctsite (empty: it can)
    eb_costs: list[CostLine]
    static: StaticCost
    warnings: tuple[str, ...] = ()  # about the addresses, said before anything is deleted

    @property
    def environment(self) -> str:
        """The production EB environment's name (what `confirm` must be)."""
        return self.target.eb_environment

    @property
    def stack_name(self) -> str:
        return self.target.stack_name

    @property
    def eb_monthly_usd(self) -> float:
        return round(sum(c.monthly_usd for c in self.eb_costs), 2)

    @property
    def saving_usd(self) -> float:
        return round(self.eb_monthly_usd - self.static.monthly_usd, 2)

    def to_json(self) -> dict[str, object]:
        """The fields, and what the text says beside them: the names --confirm deletes, both
        sites' monthly totals and the saving (a script reads the same facts as a person)."""
        doc: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        doc.update(
            environment=self.environment,
            stack_name=self.stack_name,
            eb_monthly_usd=self.eb_monthly_usd,
            saving_usd=self.saving_usd,
        )
        return doc


@dataclass(frozen=True)
class Deletion:
    """What `delete_eb_site` removed."""

    stack_name: str
    file_system_id: str  # "" : none deleted
    notes: list[str] = field(default_factory=list)


def address_warnings(live: LiveSite, domain: str) -> tuple[str, ...]:
    """What to know about the addresses before the EB site is deleted: an
    `*.elasticbeanstalk.com` address stops answering and its name can be claimed; without a
    lab-owned domain ([static] domain) the static site's address is CloudFront's own."""
    found = []
    if live.eb_address:
        found.append(
            f"{live.url} stops answering once the environment is deleted, and anyone may "
            "later create an environment under that name: a paper that prints it would point "
            "to someone else's site"
        )
    if not domain:
        found.append(
            "publish the static site under a domain your lab owns ([static] domain and "
            "certificate_arn, then `ctsite provision apply --env static`) before a paper "
            "prints its address; the CloudFront address changes if the distribution is remade"
        )
    return tuple(found)


def read_live(url: str, timeout_s: float = HEALTH_TIMEOUT_S) -> LiveSite:
    """The store version and fingerprint the site at `url` serves (its `/healthz`)."""
    base = url.rstrip("/")
    if "://" not in base:
        base = f"http://{base}"
    health = f"{base}/healthz"
    try:
        with urllib.request.urlopen(health, timeout=timeout_s) as answer:  # noqa: S310 - http(s)
            body = answer.read(1_000_000)
    except urllib.error.HTTPError as exc:
        body = exc.read(1_000_000) if exc.code == 503 else b""
        if not body:
            raise CtsiteError(
                f"the live site answered {exc.code} at {health}",
                hint="retire moves a running site: check it with `ctsite status`",
            ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CtsiteError(
            f"cannot reach the live site at {health}: {reason}",
            hint="check the environment with `ctsite status`, or give its address with --live-url",
        ) from None
    try:
        found = json.loads(body.decode("utf-8"))
        version, fingerprint = str(found["store_version"] or ""), str(found["fingerprint"] or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CtsiteError(
            f"{health} is not a ctsite site's health answer",
            hint="give the address of the ctsite site with --live-url",
        ) from None
    if not version or not fingerprint:
        raise CtsiteError(
            f"the live site at {base} serves no store version ({found.get('status', '?')})",
            hint="a site without its data has nothing to retire into a static site",
        )
    return LiveSite(base, version, fingerprint)


def _local_version(store_path: Path, live: LiveSite) -> Path:
    """The live version's folder in the local store, its fingerprint checked."""
    folder = Path(store_path) / fmt.VERSIONS_DIR / live.store_version
    if not (folder / fmt.MANIFEST).is_file():
        raise CtsiteError(
            f"the live site runs store version {live.store_version}, which the local store "
            f"{store_path} does not hold",
            hint="export from the store the site was published from (--data DIR), or `ctsite "
            "release` the local version first",
        )
    try:
        local = Store.open(folder)
    except StoreError as exc:
        raise CtsiteError(f"{folder}: {exc.message}", hint=exc.hint) from None
    if local.fingerprint != live.fingerprint:
        raise CtsiteError(
            f"store version {live.store_version} differs from the live site's "
            f"(fingerprint {local.fingerprint[:12]} here, {live.fingerprint[:12]} live)",
            hint="export from the store the site was published from (--data DIR)",
        )
    return folder


def plan_retire(
    settings: Settings,
    client: ClientFactory,
    *,
    live_url: str | None = None,
    store_path: Path | None = None,
    traffic: Traffic | None = None,
) -> RetirePlan:
    """Everything `retire` would do, read from AWS, the live site and the local store."""
    target = environments.resolve_environment(settings, environments.PRODUCTION)
    if settings.site_access_code_hash:
        raise CtsiteError(
            "the site is behind an access code (site_access_code_hash); a static site has none: "
            "whoever reaches its files sees everything",
            hint="remove site_access_code_hash once the data may be public, then retire",
        )
    cfn = stack.cloudformation(client, target)
    exists = cfn.stack(target.stack_name) is not None
    if not exists:
        _environment_left(settings, client, target)
    url = live_url or _environment_url(settings, client, target.eb_environment)
    live = read_live(url)
    folder = _local_version(store_path or settings.compiled_path, live)
    hosting = static_hosting(settings, client)
    made = cfn.resources(target.stack_name).get("FileSystem", "") if exists else ""
    kept = settings.efs_file_system_id if settings.efs_file_system_id != made else ""
    blockers: list[str] = []
    if not exists:
        blockers.append(
            f"{target.eb_environment} was not made by `ctsite provision apply` (no stack "
            f"{target.stack_name}): delete it yourself (`eb terminate {target.eb_environment}`)"
        )
    staging = environments.resolve_environment(settings, environments.STAGING)
    if exists and cfn.stack(staging.stack_name) is not None:
        blockers.append(
            f"the staging stack {staging.stack_name} shares the EFS file system: "
            "`ctsite provision destroy --env staging` first"
        )
    costs = eb_costs(settings) or []
    return RetirePlan(
        target=target,
        live=live,
        version_path=folder,
        hosting=hosting,
        stack_exists=exists,
        file_system_id=made,
        kept_file_system=kept,
        blockers=tuple(blockers),
        eb_costs=costs,
        static=static_cost(settings, traffic or Traffic.estimate(settings), None),
        warnings=address_warnings(live, settings.static_domain),
    )


def _environment_left(settings: Settings, client: ClientFactory, target: Target) -> None:
    """Without its stack, the environment must still exist (a hand-made one, which retire
    publishes and keeps); with neither, the site is retired already (a second run) — one line
    saying so, naming the configured EFS file system if it is still there (a retire stopped
    after the stack's deletion leaves it; ctsite cannot prove it made it any more)."""
    name = target.eb_environment
    if Beanstalk(client, settings.eb_application, name).environments([name]):
        return
    hint = (
        "nothing of the Elastic Beanstalk site is left to delete; `ctsite publish-site` updates "
        "the static site (if the environment lives elsewhere: check eb_application, "
        "eb_environment and aws_region)"
    )
    left = settings.efs_file_system_id
    if left and _file_system_exists(client, left, settings.aws_region):
        hint = (
            f"the EFS file system {left} ([efs] file_system_id) is still there: `aws efs "
            f"delete-file-system --file-system-id {left}` deletes it once nothing needs it; "
            "`ctsite publish-site` updates the static site"
        )
    raise CtsiteError(
        f"nothing to retire: neither the Elastic Beanstalk environment {name} nor its stack "
        f"{target.stack_name} exists (retired already?)",
        hint=hint,
    )


def _file_system_exists(client: ClientFactory, file_system_id: str, region: str) -> bool:
    try:
        efs.file_system(client, file_system_id, region)
    except CtsiteError:
        return False
    return True


def _environment_url(settings: Settings, client: ClientFactory, environment: str) -> str:
    """The environment's own address (its CNAME)."""
    found = Beanstalk(client, settings.eb_application, environment).environment()
    cname = str(found.get("CNAME") or "")
    if not cname:
        raise CtsiteError(
            f"the Elastic Beanstalk environment {environment} has no address (CNAME)",
            hint="give the site's address with --live-url",
        )
    return f"http://{cname}"


def publish_live(
    plan: RetirePlan,
    client: ClientFactory,
    source_for: Callable[[Path], SiteSource],
    *,
    dry_run: bool = False,
    reporter: Reporter = NULL,
) -> PublishResult:
    """Publish the live version as the static site and check the bucket now holds it."""
    published = publish_site(
        plan.hosting.bucket,
        plan.hosting.distribution_id,
        client,
        store_path=plan.version_path,
        source_for=source_for,
        dry_run=dry_run,
        reporter=reporter,
    )
    if published.plan.version != plan.live.store_version:
        raise CtsiteError(
            f"the static site holds store version {published.plan.version}, not the live "
            f"{plan.live.store_version}: nothing deleted",
            hint="run retire again",
        )
    return published


def check_confirmation(plan: RetirePlan, confirm: str) -> None:
    """Refuse a `confirm` that is not the production environment's name — called before the
    publish too, so a typo is said at once rather than after minutes of export and upload."""
    if confirm != plan.environment:
        raise CtsiteError(
            f"{confirm!r} is not the production environment's name: nothing deleted",
            hint=f"type its name to delete it: --confirm {plan.environment}",
        )


def delete_eb_site(
    plan: RetirePlan,
    client: ClientFactory,
    confirm: str,
    *,
    poll_s: float = 5.0,
    reporter: Reporter = NULL,
) -> Deletion:
    """Delete the production stack and the EFS file system it made; only when `confirm` is the
    production environment's name and nothing blocks it (call after `publish_live`)."""
    check_confirmation(plan, confirm)
    if plan.blockers:
        raise CtsiteError(
            f"the Elastic Beanstalk site is kept: {plan.blockers[0]}",
            hint="then run retire again",
        )
    cfn = stack.cloudformation(client, plan.target)
    try:
        stack.destroy(cfn, plan.target, confirm, report=reporter.info, poll_s=poll_s)
    except KeyboardInterrupt as stop:
        raise lifecycle.with_outcome(stop, _stopped_in_stack(plan)) from None
    notes: list[str] = []
    if plan.file_system_id:
        try:
            reporter.info(f"deleting the EFS file system {plan.file_system_id}")
            efs.delete_file_system(client, plan.file_system_id, poll_s=poll_s)
        except KeyboardInterrupt as stop:
            raise lifecycle.with_outcome(stop, _stopped_in_file_system(plan)) from None
    if plan.kept_file_system:
        notes.append(
            f"the EFS file system {plan.kept_file_system} was not made by ctsite: kept "
            f"(`aws efs delete-file-system --file-system-id {plan.kept_file_system}` deletes it)"
        )
    return Deletion(plan.stack_name, plan.file_system_id, notes)


def _stopped_in_stack(plan: RetirePlan) -> str:
    """What a stop while the stack is being deleted leaves: its deletion goes on in AWS (and a
    re-run may no longer reach the live site, so the line gives the commands themselves)."""
    said = (
        f"the stack {plan.stack_name} may be being deleted (AWS goes on; `ctsite provision "
        f"destroy --env production --confirm {plan.environment}` finishes and follows it)"
    )
    if plan.file_system_id:
        said += (
            f"; the EFS file system {plan.file_system_id} it made is not deleted: once the "
            f"stack is gone, `aws efs delete-file-system --file-system-id {plan.file_system_id}`"
        )
    return said


def _stopped_in_file_system(plan: RetirePlan) -> str:
    fs = plan.file_system_id
    return (
        f"the stack {plan.stack_name} is deleted, the EFS file system {fs} is not: `aws efs "
        f"delete-file-system --file-system-id {fs}` deletes it once its mount targets are gone"
    )
