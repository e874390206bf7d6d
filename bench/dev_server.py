"""The dev server every bench measures on: `warroom run`'s flags, a SQLite file in a temporary directory,
warroom's search attributes and payload converter. Both sides of each comparison run on it."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from workers.binaries import find_binary
from workers.data_converter import data_converter
from workers.dev_stack import tuning_args
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

FLAGS = tuning_args()  # the dev server's flags in `warroom run`
SERVER = f"temporal server start-dev --db-filename <tmp>/bench.db {' '.join(FLAGS)}"


@contextlib.asynccontextmanager
async def bench_server() -> AsyncIterator[tuple[WorkflowEnvironment, Path]]:
    """The running server and a scratch directory, both gone when the block ends."""
    with tempfile.TemporaryDirectory() as tmp:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=find_binary("temporal"),
            dev_server_database_filename=str(Path(tmp) / "bench.db"),
            data_converter=data_converter,
            search_attributes=ALL_SEARCH_ATTRIBUTES,
            dev_server_extra_args=FLAGS,
            ui=False,
        )
        try:
            yield env, Path(tmp)
        finally:
            await env.shutdown()
