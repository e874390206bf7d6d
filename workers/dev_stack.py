"""The embedded stack behind `warroom run`: a Temporal dev server child process plus the worker in-process.

One command, no Docker: the server keeps its state in a SQLite file under the data dir (so incidents survive
a restart) and serves the Web UI; the worker (and later the intake) run in this process. The server child is
in its own process group, so a terminal Ctrl-C reaches only us and we stop things in order: worker first
(finishing its tasks against a live server), then the server. If we die anyway, the kernel kills the server
too (PR_SET_PDEATHSIG), so a crash never leaves an orphan holding port 7233.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.runtime import Runtime
from temporalio.service import RPCError

from config.settings import Settings
from config.temporal_connection import TemporalConnection
from workers.binaries import find_binary
from workers.client import connect
from workers.connect_errors import describe_connect_failure
from workers.logs import configure_logging
from workers.metrics import metrics_runtime
from workflows.durations import format_duration
from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

if TYPE_CHECKING:
    from workers.demo import DemoPlan

LISTEN_IP = "127.0.0.1"  # the dev server is not for production: never listen beyond this machine
READY_TIMEOUT = 30.0
DEFAULT_RETENTION = timedelta(days=90)
SERVER_STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 20

# Latency floors are dev-server settings (TEMPORAL.md): ~31 ms instead of ~100 ms per signal -> activity
# round trip, and one task-queue partition instead of four cuts the p95 of the first workflow task.
LOW_LATENCY_CONFIG = {
    "history.transferProcessorMaxPollRPS": "1000",
    "history.timerProcessorMaxPollRPS": "1000",
    "matching.numTaskqueueReadPartitions": "1",
    "matching.numTaskqueueWritePartitions": "1",
}

# SQLite's write-ahead log instead of its rollback journal: fewer syncs per commit (every workflow task is
# one), still durable at each commit (synchronous stays as the server sets it), and a kill -9 leaves a log
# the next start replays. Measured on the embedded default: bare start -> activity p50 42 -> 29 ms
# (docs/performance.md).
SQLITE_PRAGMAS = {"journal_mode": "wal"}


def tuning_args() -> list[str]:
    """The dev server's latency settings and SQLite pragmas, as `warroom run` passes them (benches reuse them)."""
    args = []
    for name, value in LOW_LATENCY_CONFIG.items():
        args += ["--dynamic-config-value", f"{name}={value}"]
    for pragma, value in SQLITE_PRAGMAS.items():
        args += ["--sqlite-pragma", f"{pragma}={value}"]
    return args


# `--search-attribute NAME=TYPE` spells the types like this (temporal server start-dev --help).
_DEV_SERVER_TYPES = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}

Announce = Callable[[str], None]


class StackError(Exception):
    """Something a user can fix (port taken, binary missing, server won't start): a message, no traceback."""


@dataclass(frozen=True)
class StackConfig:
    port: int
    ui_port: int
    data_dir: Path
    namespace: str = "default"
    # The dev server keeps closed workflows 24 h: reports and `warroom status` of last week's incidents need more.
    retention: timedelta = DEFAULT_RETENTION

    @property
    def address(self) -> str:
        return f"{LISTEN_IP}:{self.port}"

    @property
    def db_file(self) -> Path:
        return self.data_dir / "temporal.db"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "temporal.log"


def server_args(config: StackConfig) -> list[str]:
    """The `temporal server start-dev` arguments (without the binary)."""
    args = [
        "server", "start-dev",
        "--db-filename", str(config.db_file),
        "--ip", LISTEN_IP,
        "--port", str(config.port),
        "--ui-port", str(config.ui_port),
        "--log-level", "warn",
    ]  # fmt: skip
    if config.namespace != "default":  # "default" always exists; any other must be created at launch
        args += ["--namespace", config.namespace]
    for key in ALL_SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{key.name}={_DEV_SERVER_TYPES[key.indexed_value_type]}"]
    return args + tuning_args()


@dataclass(frozen=True)
class Listener:
    """A port the stack will listen on, and the option (or variable) that moves it."""

    label: str
    host: str
    port: int
    moved_by: str


def ensure_ports_free(listeners: list[Listener]) -> None:
    """Fail before starting anything if a port is taken, with the option that moves it."""
    for listener in listeners:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # SO_REUSEADDR as servers use it: only a live listener counts as "in use", not TIME_WAIT.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((listener.host, listener.port))
            except OSError as error:
                raise StackError(
                    f"{listener.label} port {listener.host}:{listener.port} is already in use "
                    f"({error.strerror}): is another `warroom run` or Temporal server running? "
                    f"Stop it, or choose another port with {listener.moved_by}."
                ) from None


# --------------------------------------------------------------------------- the server child process

_PR_SET_PDEATHSIG = 1


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A preexec_fn that makes the kernel SIGTERM the child when this process dies (Linux only).

    libc is loaded here, before the fork, so the child runs no import or loader code: it only makes one
    syscall. The parent pid is checked after the prctl because the parent may already be gone by then.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def hook() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return hook


class DevServer:
    """The `temporal server start-dev` child: start it, wait until it answers, stop it without orphans."""

    def __init__(self, config: StackConfig, process: asyncio.subprocess.Process) -> None:
        self.config = config
        self.process = process

    @classmethod
    async def start(cls, config: StackConfig) -> DevServer:
        try:
            binary = find_binary("temporal")
        except FileNotFoundError as error:
            raise StackError(str(error)) from None
        config.data_dir.mkdir(parents=True, exist_ok=True)
        # A file, not a pipe: nobody has to drain it, and it is there to read after a failed start.
        with config.log_file.open("ab") as log:
            log.write(f"\n--- warroom run: starting Temporal dev server at {time.ctime()} ---\n".encode())
            log.flush()
            process = await asyncio.create_subprocess_exec(
                binary, *server_args(config),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,  # own process group: a terminal Ctrl-C reaches only warroom
                preexec_fn=_die_with_parent_hook(),
            )  # fmt: skip
        return cls(config, process)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait_ready(
        self, runtime: Runtime | None, settings: Settings, stop: asyncio.Event
    ) -> Client | None:
        """Connect once the frontend answers and the namespace exists; None if asked to stop meanwhile."""
        deadline = time.monotonic() + READY_TIMEOUT
        while not stop.is_set():
            if self.process.returncode is not None:
                raise StackError(
                    f"the Temporal dev server exited with code {self.process.returncode} during start-up.\n"
                    f"{self.log_tail()}"
                )
            client = await self._try_connect(runtime, settings)
            if client is not None:
                return client
            if time.monotonic() > deadline:
                raise StackError(
                    f"the Temporal dev server did not answer on {self.config.address} within "
                    f"{READY_TIMEOUT:.0f} s.\n{self.log_tail()}"
                )
            await asyncio.sleep(0.05)
        return None

    async def _try_connect(self, runtime: Runtime | None, settings: Settings) -> Client | None:
        try:
            client = await connect(settings, runtime)
            # The frontend listens a moment before the namespace is usable: the worker would fail to poll.
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=settings.namespace)
            )
        except (RuntimeError, RPCError):
            return None
        return client

    async def stop(self) -> None:
        """SIGTERM the process group, wait, SIGKILL if it hangs. Safe to call when it already exited."""
        if self.process.returncode is None:
            self._signal_group(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), SERVER_STOP_TIMEOUT)
            except TimeoutError:
                self._signal_group(signal.SIGKILL)
                await self.process.wait()

    def _signal_group(self, signum: int) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def log_tail(self) -> str:
        try:
            lines = self.config.log_file.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        except OSError:
            return ""
        return f"Last lines of {self.config.log_file}:\n" + "\n".join(f"  {line}" for line in lines)


# --------------------------------------------------------------------------- processes: stack and worker


def stop_on_signals() -> asyncio.Event:
    """SIGINT/SIGTERM set an event instead of raising, so shutdown runs in order and exits 0."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


def make_runtime(settings: Settings) -> Runtime | None:
    """The process's metrics runtime, or None when metrics are off (WARROOM_METRICS_ADDRESS='')."""
    if not settings.metrics_address:
        return None
    try:
        return metrics_runtime(settings.metrics_address)
    except Exception as error:  # the Rust core reports a taken or malformed address as a plain exception
        raise StackError(
            f"cannot serve metrics on {settings.metrics_address} ({error}); choose another address with "
            f"WARROOM_METRICS_ADDRESS, or set it to '' to turn metrics off"
        ) from None


@dataclass(frozen=True)
class IntakeRunning:
    url: str
    token: str
    announce_line: str


@asynccontextmanager
async def intake_service(settings: Settings, client: Client) -> AsyncIterator[IntakeRunning]:
    """The HTTP intake (intake/), served beside the worker on the same client and stopped before it.
    Yields its URL, a token senders may present, and the line to announce (URL and where the token is)."""
    from intake.server import IntakeStartError
    from intake.service import serve_intake
    from workers.intake_process import IntakeConfigError, slack_people, stack_intake_config

    try:
        config, token_hint = stack_intake_config(settings)
        people = slack_people(settings, config)
    except IntakeConfigError as error:
        raise StackError(str(error)) from None
    try:
        async with serve_intake(client, settings.task_queue, config, people) as url:
            slack = f"; Slack buttons: {url}/slack/interactivity" if people is not None else ""
            line = f"{url}/v1/alerts/<format>  ({token_hint}; WARROOM_INTAKE_ADDRESS moves it{slack})"
            yield IntakeRunning(url, config.tokens[0].get_secret_value(), line)
    except IntakeStartError as error:
        raise StackError(f"{error}: choose another address with WARROOM_INTAKE_ADDRESS") from None


async def serve_worker(
    client: Client, settings: Settings, stop: asyncio.Event, server: DevServer | None = None
) -> None:
    """Run the worker until `stop` is set (or the server child dies), then shut it down gracefully."""
    from workers.worker import build_worker  # heavy (activities, adapters): only processes that serve need it

    worker = build_worker(client, settings)
    worker_run = asyncio.create_task(worker.run(), name="worker")
    waits: set[asyncio.Task[Any]] = {worker_run, asyncio.create_task(stop.wait(), name="stop")}
    if server is not None:
        waits.add(asyncio.create_task(server.process.wait(), name="server"))
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending - {worker_run}:
        task.cancel()
    if worker_run in done:
        worker_run.result()  # a fatal worker error surfaces here
        raise StackError("the worker stopped unexpectedly")
    await worker.shutdown()
    await worker_run
    if server is not None and server.process.returncode is not None:
        raise StackError(
            f"the Temporal dev server exited (code {server.process.returncode}).\n{server.log_tail()}"
        )


async def run_stack(
    settings: Settings, config: StackConfig, announce: Announce, demo: DemoPlan | None = None
) -> None:
    """`warroom run`: server child, then worker (and intake) in-process, until SIGINT/SIGTERM. With a demo
    plan, the demo shop and HAProxy start first (the worker's adapters point at them) and the shop's
    watcher posts to the intake."""
    stop = stop_on_signals()
    configure_logging(settings.log_level)
    listeners = [
        Listener("Temporal", LISTEN_IP, config.port, "--port"),
        Listener("Web UI", LISTEN_IP, config.ui_port, "--ui-port"),
    ]
    metrics = _metrics_bind(settings.metrics_address)
    if metrics:
        listeners.append(Listener("metrics", *metrics, "WARROOM_METRICS_ADDRESS ('' turns metrics off)"))
    if demo is not None:
        ports = demo.ports
        listeners += [
            Listener(f"demo {label}", LISTEN_IP, port, "--demo-port")
            for label, port in (("HAProxy", ports.frontend), ("shop eu", ports.eu), ("shop us", ports.us),
                                ("HAProxy Runtime API", ports.runtime_api))
        ]  # fmt: skip
    ensure_ports_free(listeners)
    started = time.monotonic()
    # The server is forked before the metrics runtime exists: no Rust threads are alive at fork time.
    server = await DevServer.start(config)
    try:
        runtime = make_runtime(settings)
        client = await server.wait_ready(runtime, settings, stop)
        if client is None:
            return
        await set_retention(client, settings.namespace, config.retention)
        async with AsyncExitStack() as demo_stack:
            demo_lines: list[str] = []
            if demo is not None:
                from workers.demo import demo_services, watching  # the demo's processes import this module

                running = await demo_stack.enter_async_context(demo_services(demo))
                demo_lines = running.announce_lines()
                # The in-process worker reads WARROOM_CONTAINMENT when it is built, and resolves the adapters
                # file's ${SHOP_ADMIN_TOKEN} from this environment when it acts.
                os.environ.update(running.worker_environment())
            intake = await demo_stack.enter_async_context(intake_service(settings, client))
            if demo is not None:
                await demo_stack.enter_async_context(watching(demo, intake.url, intake.token))
            _announce_stack(
                announce,
                settings,
                config,
                server,
                intake.announce_line,
                time.monotonic() - started,
                demo_lines,
            )
            await serve_worker(client, settings, stop, server)
        announce("stopping: worker stopped, stopping the Temporal server...")
    finally:
        await server.stop()
    announce("stopped.")


async def set_retention(client: Client, namespace: str, retention: timedelta) -> None:
    """How long closed incidents stay visible (status, list, reports); the server deletes them after. The
    server changes only the fields a config sets: archival and the rest stay as they are."""
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=namespace,
            config=NamespaceConfig(
                workflow_execution_retention_ttl=Duration(seconds=int(retention.total_seconds()))
            ),
        )
    )


async def run_worker(settings: Settings, announce: Announce) -> None:
    """`warroom worker`: just the worker against an existing Temporal, until SIGINT/SIGTERM."""
    stop = stop_on_signals()
    configure_logging(settings.log_level)
    runtime = make_runtime(settings)
    try:
        client = await connect(settings, runtime)
    except RuntimeError as error:  # how the SDK reports "Failed client connect"
        raise StackError(
            f"cannot reach Temporal at {settings.temporal_address}: "
            f"{transport_reason(error, settings.connection)}"
        ) from None
    metrics = f", metrics http://{settings.metrics_address}/metrics" if settings.metrics_address else ""
    announce(f"worker on task queue '{settings.task_queue}' at {settings.temporal_address}{metrics}")
    await serve_worker(client, settings, stop)
    announce("worker stopped.")


def transport_reason(error: Exception, connection: TemporalConnection | None = None) -> str:
    """The human part of the SDK's connection error (e.g. 'Connection refused', or which TLS setting to fix)."""
    return describe_connect_failure(error, connection or TemporalConnection())


def _metrics_bind(address: str) -> tuple[str, int] | None:
    host, _, port = address.rpartition(":")
    if not address or not port.isdigit():
        return None
    return (host or "0.0.0.0", int(port))


def _announce_stack(
    announce: Announce,
    settings: Settings,
    config: StackConfig,
    server: DevServer,
    intake_url: str | None,
    startup_seconds: float,
    extra_lines: list[str] | None = None,
) -> None:
    lines = [
        f"warroom is running (Temporal answered in {startup_seconds:.1f} s)",
        f"  Web UI:        http://localhost:{config.ui_port}",
        f"  Temporal:      localhost:{config.port}  (namespace {settings.namespace}, "
        f"task queue {settings.task_queue}, retention {format_duration(config.retention)})",
    ]
    if settings.metrics_address:
        lines.append(f"  Metrics:       http://{settings.metrics_address}/metrics")
    if intake_url:
        lines.append(f"  Intake:        {intake_url}")
    lines += extra_lines or []
    lines += [
        f"  State:         {config.db_file}  (server log {config.log_file})",
        f"  Server pid:    {server.pid}",
        "Press Ctrl-C to stop.",
    ]
    announce("\n".join(lines))
