"""Client factories for tests that hold ready boto3 clients (a Stubber's, a moto-backed one):
adapters take a factory (ctsite.aws.clients.ClientFactory), never a raw client."""

from __future__ import annotations

from typing import Any

from ctsite.aws.clients import ClientFactory


def serving(*clients: Any) -> ClientFactory:
    """A factory answering with these clients, each for its own service (in any region)."""
    by_service = {c.meta.service_model.service_name: c for c in clients}

    def factory(service: str, region: str | None = None, max_attempts: int | None = None) -> Any:
        if service not in by_service:
            raise AssertionError(f"the test gave no {service} client (only {sorted(by_service)})")
        return by_service[service]

    return factory
