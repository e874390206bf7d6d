"""The containment adapters of this worker: a YAML file named by `WARROOM_CONTAINMENT`.

```yaml
adapters:
  haproxy:                       # the name runbooks use (the request's `adapter`)
    type: haproxy
    socket: /run/haproxy/admin.sock   # or host:port of a TCP stats socket
    backends: [shop]             # optional allow-list
  shop:
    type: http_admin
    targets: {eu: "http://10.0.0.5:8080", us: "http://10.0.1.5:8080"}
    operations:
      maintenance_mode: /admin/maintenance          # params are the body: {"enabled": true}
      rate_limit: /admin/rate-limit                 # {"per_second": 20}
      disable_feature: {path: /admin/flags, body: {"{feature}": false}}
    token: ${SHOP_ADMIN_TOKEN}
  rollback:
    type: http_runbook
    url: https://automation.example.com/hooks/{operation}
    secret: ${RUNBOOK_HMAC_SECRET}
    cancel_url: https://automation.example.com/jobs/{id}/cancel
  snapshot:
    type: snapshot
    urls: {eu-health: "http://10.0.0.5:8080/health"}
```

Secrets are `${NAME}` references resolved when the adapter acts (environment, then `WARROOM_SECRETS_FILE`),
never part of a request, so never in workflow history. A policy names adapters; the worker decides what they
are, as with notification channels.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.contain.base import ContainmentAdapter
from adapters.contain.haproxy import HAProxyAdapter
from adapters.contain.haproxy_runtime import HAProxyRuntime
from adapters.contain.http_admin import AdminOperation, HttpAdminAdapter
from adapters.contain.http_runbook import HttpRunbookAdapter
from adapters.contain.snapshot import SnapshotAdapter
from adapters.notify.base import Secrets
from config.containment import CONTAINMENT_VARIABLE, ContainmentConfigError

__all__ = ["CONTAINMENT_VARIABLE", "ContainmentConfigError", "load_adapters", "parse_adapters"]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str


class HAProxyOptions(_Options):
    socket: str = Field(description="unix socket path or host:port of a `stats socket ... level admin`")
    backends: list[str] | None = None
    timeout_seconds: float = Field(default=5, gt=0)


class HttpRunbookOptions(_Options):
    url: str
    secret: str = Field(description="HMAC-SHA256 key, a ${SECRET} reference")
    status_url: str | None = None
    cancel_url: str | None = None
    poll_seconds: float = Field(default=2, gt=0)
    timeout_seconds: float = Field(default=600, gt=0)


class AdminOperationOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    body: dict[str, Any] | None = None


class HttpAdminOptions(_Options):
    targets: dict[str, str] = Field(min_length=1)
    operations: dict[str, str | AdminOperationOptions] = Field(
        min_length=1, description="operation -> path (GET reads, PUT sets), or {path, body template}"
    )
    token: str | None = None


class SnapshotOptions(_Options):
    urls: dict[str, str] = Field(min_length=1)


OPTIONS: dict[str, type[_Options]] = {
    "haproxy": HAProxyOptions,
    "http_runbook": HttpRunbookOptions,
    "http_admin": HttpAdminOptions,
    "snapshot": SnapshotOptions,
}


def _build(name: str, options: _Options, secrets: Secrets, data_dir: Path) -> ContainmentAdapter:
    if isinstance(options, HAProxyOptions):
        runtime = HAProxyRuntime(options.socket, options.timeout_seconds)
        return HAProxyAdapter(name, runtime, options.backends)
    if isinstance(options, HttpRunbookOptions):
        return HttpRunbookAdapter(
            name,
            url=options.url,
            secret=options.secret,
            secrets=secrets,
            status_url=options.status_url,
            cancel_url=options.cancel_url,
            poll_seconds=options.poll_seconds,
            timeout_seconds=options.timeout_seconds,
        )
    if isinstance(options, HttpAdminOptions):
        operations = {
            operation: AdminOperation(spec) if isinstance(spec, str) else AdminOperation(spec.path, spec.body)
            for operation, spec in options.operations.items()
        }
        return HttpAdminAdapter(
            name, targets=options.targets, settings=operations, secrets=secrets, token=options.token
        )
    assert isinstance(options, SnapshotOptions)
    return SnapshotAdapter(name, urls=options.urls, directory=data_dir / "snapshots")


def parse_adapters(
    raw: Mapping[str, Any], secrets: Secrets, data_dir: Path, source: str = "containment"
) -> dict[str, ContainmentAdapter]:
    entries = raw.get("adapters") or {}
    if not isinstance(entries, Mapping):
        raise ContainmentConfigError(f"{source}: 'adapters' must be a mapping of name -> adapter")
    adapters: dict[str, ContainmentAdapter] = {}
    for name, entry in entries.items():
        if not isinstance(entry, Mapping):
            raise ContainmentConfigError(f"{source}: adapter '{name}' must be a mapping with a 'type'")
        kind = str(entry.get("type", name))
        model = OPTIONS.get(kind)
        if model is None:
            raise ContainmentConfigError(
                f"{source}: adapter '{name}': unknown type '{kind}' (one of {', '.join(OPTIONS)})"
            )
        try:
            options = model.model_validate({**entry, "type": kind})
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
            )
            raise ContainmentConfigError(f"{source}: adapter '{name}': {problems}") from None
        adapters[str(name)] = _build(str(name), options, secrets, data_dir)
    return adapters


def load_adapters(
    secrets: Secrets, data_dir: Path, environ: Mapping[str, str] | None = None
) -> dict[str, ContainmentAdapter]:
    """The adapters in the file `WARROOM_CONTAINMENT` names; none without it (every action then fails with
    the reason, and nothing is touched)."""
    env = os.environ if environ is None else environ
    path = env.get(CONTAINMENT_VARIABLE)
    if not path:
        return {}
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ContainmentConfigError(f"{path}: cannot read containment adapters file: {error}") from None
    if not isinstance(raw, Mapping):
        raise ContainmentConfigError(f"{path}: expected a mapping with an 'adapters' key")
    return parse_adapters(raw, secrets, data_dir, path)
