"""`ctsite alerts`: the environment's notification topic and its subscriptions."""

from __future__ import annotations

import dataclasses

from ctsite.aws import sns
from ctsite.aws.clients import ClientFactory
from ctsite.config import Settings


@dataclasses.dataclass(frozen=True)
class AlertsResult:
    topic: str
    subscriptions: list[sns.Subscription]


@dataclasses.dataclass(frozen=True)
class SubscribeResult:
    topic: str
    subscription: sns.Subscription
    created: bool  # False: the address was already subscribed and confirmed


def topic(s: Settings, client: ClientFactory, arn: str | None = None) -> str:
    """The topic: the given ARN, the configured one, else the environment's."""
    arn = arn or s.eb_notification_topic
    if arn:
        return sns.check_topic_arn(arn)
    return sns.environment_topic(client, s.eb_application, s.eb_environment)


def list_alerts(s: Settings, client: ClientFactory, arn: str | None = None) -> AlertsResult:
    found = topic(s, client, arn)
    return AlertsResult(found, sns.subscriptions(client, found))


def subscribe(
    s: Settings, client: ClientFactory, email: str, arn: str | None = None
) -> SubscribeResult:
    found = topic(s, client, arn)
    sub, created = sns.subscribe(client, found, email)
    return SubscribeResult(found, sub, created)
