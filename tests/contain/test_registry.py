"""The worker's adapters file: names resolve to adapters, mistakes are named, secrets stay references."""

from __future__ import annotations

from pathlib import Path

import pytest

from activities.contain_registry import ContainmentConfigError, load_adapters, parse_adapters
from adapters.contain.haproxy import HAProxyAdapter
from adapters.contain.http_admin import HttpAdminAdapter
from adapters.contain.http_runbook import HttpRunbookAdapter
from adapters.contain.snapshot import SnapshotAdapter
from adapters.notify.base import NoSecrets

EXAMPLE = """
adapters:
  haproxy: {type: haproxy, socket: /run/haproxy/admin.sock, backends: [shop]}
  shop:
    type: http_admin
    targets: {eu: "http://127.0.0.1:8101"}
    token: ${SHOP_ADMIN_TOKEN}
    operations:
      rate_limit: /admin/rate-limit
      disable_feature: {path: /admin/flags, body: {"{feature}": false}}
  rollback: {type: http_runbook, url: "https://automation.example.com/hooks/{operation}", secret: "${RUNBOOK_KEY}"}
  snapshot: {urls: {eu: "http://127.0.0.1:8101/health"}}
"""


def test_the_file_named_by_the_variable_builds_each_adapter(tmp_path: Path) -> None:
    path = tmp_path / "containment.yaml"
    path.write_text(EXAMPLE)
    adapters = load_adapters(NoSecrets(), tmp_path, {"WARROOM_CONTAINMENT": str(path)})
    assert isinstance(adapters["haproxy"], HAProxyAdapter)
    assert isinstance(adapters["shop"], HttpAdminAdapter)
    assert adapters["shop"].token == "${SHOP_ADMIN_TOKEN}"  # resolved only when it acts
    assert isinstance(adapters["rollback"], HttpRunbookAdapter)
    assert isinstance(adapters["snapshot"], SnapshotAdapter)  # the type defaults to the name


def test_no_file_means_no_adapters(tmp_path: Path) -> None:
    assert load_adapters(NoSecrets(), tmp_path, {}) == {}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "k8s"}, "unknown type 'k8s'"),
        ({"type": "haproxy"}, "adapter 'x': socket: Field required"),
        ({"type": "haproxy", "socket": "/s", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ("haproxy", "must be a mapping"),
    ],
)
def test_mistakes_name_the_adapter_and_the_field(tmp_path: Path, entry: object, message: str) -> None:
    with pytest.raises(ContainmentConfigError, match=message):
        parse_adapters({"adapters": {"x": entry}}, NoSecrets(), tmp_path)
