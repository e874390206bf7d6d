"""Register warroom's search attributes on a Temporal cluster (the dev server gets them at launch instead).

The list is workflows.search_attributes.ALL_SEARCH_ATTRIBUTES, so an attribute added in code is registered by
the next run of `warroom setup-search-attributes` (the compose deployment runs it before the workers). Idempotent:
attributes already there are left alone; one there with another type is an error a person must resolve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey


class SearchAttributeConflict(Exception):
    """A name warroom needs is registered with another type: renaming or removing it is a human decision."""


@dataclass(frozen=True)
class Registration:
    name: str
    type_name: str
    added: bool


def _type_name(value: int) -> str:
    return (
        IndexedValueType.Name(IndexedValueType.ValueType(value))
        .removeprefix("INDEXED_VALUE_TYPE_")
        .title()
        .replace("_", "")
    )


async def register_search_attributes(
    client: Client, keys: Sequence[SearchAttributeKey[Any]]
) -> list[Registration]:
    """Add the missing ones in one request; report each as added or already present."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    registered = {**existing.system_attributes, **existing.custom_attributes}
    missing: dict[str, int] = {}
    for key in keys:
        wanted = int(key.indexed_value_type)
        if key.name in registered and registered[key.name] != wanted:
            raise SearchAttributeConflict(
                f"search attribute {key.name} is registered as {_type_name(registered[key.name])} in "
                f"namespace '{client.namespace}', warroom needs {_type_name(wanted)}"
            )
        if key.name not in registered:
            missing[key.name] = wanted
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)  # type: ignore[arg-type]
        )
    return [
        Registration(key.name, _type_name(int(key.indexed_value_type)), key.name in missing) for key in keys
    ]
