"""warroom's data converter: the SDK's pydantic JSON converter, with its type adapters built once per process.

The SDK builds a fresh payload converter for every workflow instance and activation (per serialization
context), and `PydanticPayloadConverter` starts each with an empty type-adapter cache: every incident paid for
building `TypeAdapter(IncidentInput)`, `TypeAdapter(LoadedPolicy)`, ... again, ~0.5 ms each, on the path to
the first page (docs/performance.md). The payloads are byte for byte the same (`json/plain`, pydantic's
`to_json`), so histories written with either converter read with the other.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import SchemaSerializer, core_schema
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

# Shared by every converter instance of the process: adapters are immutable once built, and thread safe.
_TYPE_ADAPTERS: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(maxsize=1024)(
    TypeAdapter
)
_ANY_SERIALIZER = SchemaSerializer(core_schema.any_schema())


class _SharedAdaptersJSONConverter(PydanticJSONPlainPayloadConverter):
    """The SDK's pydantic JSON converter, reusing the process's type adapters instead of a fresh cache."""

    def __init__(self) -> None:  # deliberately not super().__init__: that would build a private cache
        self._schema_serializer = _ANY_SERIALIZER
        self._to_json_options = None
        self._type_adapter = _TYPE_ADAPTERS


class WarroomPayloadConverter(CompositePayloadConverter):
    """The SDK's default converters in their order, pydantic JSON in place of plain JSON."""

    def __init__(self) -> None:
        super().__init__(
            *(
                _SharedAdaptersJSONConverter()
                if isinstance(converter, JSONPlainPayloadConverter)
                else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


data_converter = DataConverter(payload_converter_class=WarroomPayloadConverter)
