"""`warroom setup-search-attributes` against a dev server started WITHOUT warroom's search attributes (as a
fresh cluster is): it registers every attribute the code lists, is safe to run again, refuses a type conflict,
and waits for a server that is still starting when asked to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from tests.cli.conftest import Result, run_warroom
from tests.conftest import free_port
from workers.binaries import find_binary
from workers.data_converter import data_converter
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

CONFLICTED = "conflicted"


@pytest.fixture(scope="module")
async def bare_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=data_converter,
        namespace="default",
        dev_server_extra_args=["--namespace", CONFLICTED],
    )
    yield env
    await env.shutdown()


async def setup(env: WorkflowEnvironment, *global_options: str) -> Result:
    address = env.client.service_client.config.target_host
    return await run_warroom(
        *global_options, "setup-search-attributes", env={"WARROOM_TEMPORAL_ADDRESS": address}
    )


async def custom_attributes(env: WorkflowEnvironment, namespace: str) -> dict[str, int]:
    answer = await env.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return dict(answer.custom_attributes)


async def test_registers_every_attribute_in_the_code_then_leaves_them_alone(
    bare_server: WorkflowEnvironment,
) -> None:
    assert not set(await custom_attributes(bare_server, "default")) & {k.name for k in ALL_SEARCH_ATTRIBUTES}
    first = await setup(bare_server)
    assert first.code == 0, first.output
    registered = await custom_attributes(bare_server, "default")
    for key in ALL_SEARCH_ATTRIBUTES:
        assert registered[key.name] == key.indexed_value_type, key.name
        assert f"{key.name} (" in first.stdout and "): registered" in first.stdout
    again = await setup(bare_server)
    assert again.code == 0, again.output
    assert again.stdout.count("already registered") == len(ALL_SEARCH_ATTRIBUTES)


async def test_a_name_taken_with_another_type_is_refused(bare_server: WorkflowEnvironment) -> None:
    taken = ALL_SEARCH_ATTRIBUTES[0].name
    await bare_server.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=CONFLICTED, search_attributes={taken: IndexedValueType.INDEXED_VALUE_TYPE_INT}
        )
    )
    result = await setup(bare_server, "--namespace", CONFLICTED)
    assert result.code == 1 and "Traceback" not in result.output
    assert f"search attribute {taken} is registered as Int in namespace '{CONFLICTED}'" in result.stderr
    assert set(await custom_attributes(bare_server, CONFLICTED)) == {taken}  # nothing half-done


async def test_waits_for_a_server_that_is_not_up_then_gives_up_with_a_clear_error() -> None:
    address = f"127.0.0.1:{free_port()}"
    result = await run_warroom(
        "setup-search-attributes", "--wait", "1", env={"WARROOM_TEMPORAL_ADDRESS": address}
    )
    assert result.code == 1, result.output
    assert "not up yet; retrying" in result.stderr and f"cannot reach Temporal at {address}" in result.stderr
