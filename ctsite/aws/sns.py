"""E-mail alerts of the environment (`ctsite alerts`): its SNS notification topic's subscriptions.

The topic is the configured one (`eb_notification_topic`) or the one Elastic Beanstalk created
for the environment's e-mail notifications (option `aws:elasticbeanstalk:sns:topics` /
`Notification Topic ARN`). A new e-mail subscription stays "pending confirmation" until the
recipient clicks the link AWS sends them. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import re

from ctsite.aws.beanstalk import Beanstalk, option_values
from ctsite.aws.clients import ClientFactory, aws_errors
from ctsite.errors import CtsiteError

NAMESPACE = "aws:elasticbeanstalk:sns:topics"
OPTION = "Notification Topic ARN"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")


@dataclasses.dataclass(frozen=True)
class Subscription:
    endpoint: str
    protocol: str
    arn: str  # "PendingConfirmation" until the recipient confirms

    @property
    def confirmed(self) -> bool:
        return self.arn.startswith("arn:")


def check_email(email: str) -> str:
    email = email.strip()
    if not _EMAIL.match(email):
        raise CtsiteError(
            f"not an e-mail address: {email!r}", hint="e.g. name@lab.org", exit_code=2
        )
    return email


def check_topic_arn(arn: str) -> str:
    if not _TOPIC_ARN.match(arn):
        raise CtsiteError(
            f"not an SNS topic ARN: {arn!r}",
            hint="an ARN looks like arn:aws:sns:<region>:<account>:<name>",
            exit_code=2,
        )
    return arn


def environment_topic(client: ClientFactory, application: str, environment: str) -> str:
    """The environment's notification topic ARN, from its configuration settings."""
    for config in Beanstalk(client, application, environment).configuration_settings():
        found = option_values(config).get((NAMESPACE, OPTION))
        if found:
            return found
    raise CtsiteError(
        f"environment {environment!r} has no notification topic",
        hint="turn on e-mail notifications in the EB console (Configuration → Updates, "
        "monitoring and logging → Email notifications), or set eb_notification_topic",
    )


def _topic_call(action: str, arn: str) -> aws_errors:
    return aws_errors(f"{action} of the SNS topic {arn}")


def _missing_topic(arn: str, exc: CtsiteError) -> CtsiteError:
    if "NotFound" in exc.message:
        return CtsiteError(
            f"SNS topic {arn} not found",
            hint="check eb_notification_topic and aws_region, or the environment's notifications",
        )
    return exc


def subscriptions(client: ClientFactory, arn: str) -> list[Subscription]:
    """The topic's subscriptions (e-mail and others), in AWS's order."""
    found: list[Subscription] = []
    try:
        with _topic_call("list the subscriptions", arn):
            pages = (
                client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
            )
            for page in pages:
                for sub in page.get("Subscriptions", []):
                    found.append(
                        Subscription(
                            str(sub.get("Endpoint", "")),
                            str(sub.get("Protocol", "")),
                            str(sub.get("SubscriptionArn", "")),
                        )
                    )
    except CtsiteError as exc:
        raise _missing_topic(arn, exc) from None
    return found


def subscribe(client: ClientFactory, arn: str, email: str) -> tuple[Subscription, bool]:
    """Subscribe `email`; returns the subscription and whether it is new (then pending until
    the recipient confirms: AWS always asks an e-mail endpoint to confirm)."""
    email = check_email(email)
    for sub in subscriptions(client, arn):
        if sub.protocol == "email" and sub.endpoint.lower() == email.lower() and sub.confirmed:
            return sub, False
    try:
        with _topic_call(f"subscribe {email} to", arn):
            result = client("sns").subscribe(
                TopicArn=arn, Protocol="email", Endpoint=email, ReturnSubscriptionArn=False
            )
    except CtsiteError as exc:
        raise _missing_topic(arn, exc) from None
    arn_or_state = str(result.get("SubscriptionArn", "pending confirmation"))
    return Subscription(email, "email", arn_or_state), True
