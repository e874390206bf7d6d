"""Process settings from the environment. Secrets live here (and in the adapters), never in workflow input."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from config.temporal_connection import TemporalConnection
from workflows.messages.common import TASK_QUEUE

ENVIRONMENT_VARIABLES = {
    "WARROOM_TEMPORAL_ADDRESS": "Temporal frontend host:port (default localhost:7233)",
    "WARROOM_NAMESPACE": "Temporal namespace (default 'default')",
    "WARROOM_TASK_QUEUE": "task queue of the worker (default 'warroom')",
    "WARROOM_DATA_DIR": "local state: SQLite file of the dev server, post-mortems (default .warroom)",
    "WARROOM_POLICY": "path of the policy YAML (default: the built-in policy)",
    "WARROOM_POSTMORTEM_DIR": "where post-mortem drafts are written (default <data dir>/postmortems)",
    "WARROOM_POSTMORTEM_TEMPLATE": "Jinja2 Markdown template of the post-mortem (default: the built-in one)",
    "WARROOM_POSTMORTEM_WEBHOOK_URL": "also publish each post-mortem to this URL, signed (docs/postmortem.md)",
    "WARROOM_POSTMORTEM_WEBHOOK_SECRET": "HMAC key of that webhook (environment or WARROOM_SECRETS_FILE)",
    "WARROOM_RETENTION": "how long `warroom run` keeps closed workflows, e.g. 90d (default 90d)",
    "WARROOM_METRICS_ADDRESS": "host:port of the Prometheus endpoint (default 127.0.0.1:9464; empty = off)",
    "WARROOM_LOG_LEVEL": "DEBUG, INFO, WARNING... (default INFO)",
}


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    temporal_address: str = "localhost:7233"
    namespace: str = "default"
    task_queue: str = TASK_QUEUE
    data_dir: Path = Path(".warroom")
    policy_file: Path | None = None
    postmortem_dir: Path | None = None
    postmortem_template: Path | None = None
    postmortem_webhook_url: str | None = None
    retention: str = "90d"
    metrics_address: str = "127.0.0.1:9464"
    log_level: str = "INFO"
    connection: TemporalConnection = TemporalConnection()  # TLS / API key: config/temporal_connection.py

    @property
    def postmortems(self) -> Path:
        return self.postmortem_dir or self.data_dir / "postmortems"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        names = {
            "WARROOM_TEMPORAL_ADDRESS": "temporal_address",
            "WARROOM_NAMESPACE": "namespace",
            "WARROOM_TASK_QUEUE": "task_queue",
            "WARROOM_DATA_DIR": "data_dir",
            "WARROOM_POLICY": "policy_file",
            "WARROOM_POSTMORTEM_DIR": "postmortem_dir",
            "WARROOM_POSTMORTEM_TEMPLATE": "postmortem_template",
            "WARROOM_POSTMORTEM_WEBHOOK_URL": "postmortem_webhook_url",
            "WARROOM_RETENTION": "retention",
            "WARROOM_METRICS_ADDRESS": "metrics_address",
            "WARROOM_LOG_LEVEL": "log_level",
        }
        for variable, field in names.items():
            if variable in env:
                values[field] = env[variable]
        values["connection"] = TemporalConnection.from_env(env)
        return cls.model_validate(values)
