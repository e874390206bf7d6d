"""warroom as real child processes (`python -m workers.cli ...`, the same entry point as the `warroom` script):
start with a given environment, wait for a line of output, stop gracefully or kill -9."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.cli.conftest import inherited_env


@dataclass
class WarroomProcess:
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def wait_for_output(self, text: str, seconds: float = 30) -> None:
        """Bounded wait for a line the process prints when it is ready (its own announcement)."""
        async with asyncio.timeout(seconds):
            while text not in self.output():
                assert self.process.returncode is None, f"exited {self.process.returncode}:\n{self.output()}"
                await asyncio.sleep(0.1)

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)

    async def kill(self) -> None:
        """kill -9: no shutdown, in-flight tasks are abandoned as in a machine crash."""
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()


async def start_warroom(args: list[str], env: Mapping[str, str], log: Path) -> WarroomProcess:
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "workers.cli", *args,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
            env={**inherited_env(), "WARROOM_METRICS_ADDRESS": "", "WARROOM_LOG_FORMAT": "json", **env},
        )  # fmt: skip
    return WarroomProcess(process, log)
