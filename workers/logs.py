"""Process logs: stdlib records (including the SDK's workflow.logger / activity.logger, which skip replay and
carry workflow ids) rendered through structlog's ProcessorFormatter.

Two renderings of the same records. JSON, one object per line, for machines: the default when stderr is not a
terminal. For a person watching `make run` in a terminal, structlog's console renderer, with pages,
escalations and failed deliveries marked so they stand out between routine lines. WARROOM_LOG_FORMAT
(`json`, `console`, `auto`) overrides the choice.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, Literal, TextIO, cast

import structlog
from structlog.typing import EventDict, Processor
from temporalio import activity, workflow

LOG_FORMAT_VARIABLE = "WARROOM_LOG_FORMAT"
LogFormat = Literal["json", "console"]
FORMATS: tuple[LogFormat, ...] = ("json", "console")

# What a person watching the console must not miss: (marker, ANSI style), decided by `alarm_of`.
PAGE = ("PAGE", "\x1b[1;30;43m")  # black on yellow
ESCALATION = ("ESCALATION", "\x1b[1;30;43m")
DELIVERY_FAILED = ("DELIVERY FAILED", "\x1b[1;37;41m")  # white on red
RESET = "\x1b[0m"
CONSOLE_TIME = "%Y-%m-%d %H:%M:%S"  # UTC, like the pages and `warroom status`


class LogFormatError(ValueError):
    """WARROOM_LOG_FORMAT holds a value this process does not know (a configuration the operator fixes)."""


def chosen_format(requested: str | None, stream: TextIO) -> LogFormat:
    """`json` or `console` as asked; unset, empty or `auto`: console only when `stream` is a terminal."""
    value = (requested or "auto").strip().lower()
    if value == "auto":
        return "console" if _is_terminal(stream) else "json"
    if value not in FORMATS:
        raise LogFormatError(
            f"{LOG_FORMAT_VARIABLE}={requested!r} is not one of: auto, {', '.join(FORMATS)} "
            f"(unset means auto: console on a terminal, JSON otherwise)"
        )
    return cast(LogFormat, value)


def configure_logging(
    level: str = "INFO", stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> LogFormat:
    """Route every record to `stream` (default stderr) in the chosen format; returns the format chosen."""
    stream = stream or sys.stderr
    log_format = chosen_format((os.environ if environ is None else environ).get(LOG_FORMAT_VARIABLE), stream)
    shared: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso" if log_format == "json" else CONSOLE_TIME, utc=True),
    ]
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *(_console_chain(_wants_colors(stream)) if log_format == "console" else _json_chain()),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The SDK appends its info dict to every message; the same data already arrives as structured extras.
    activity.logger.activity_info_on_message = False
    workflow.logger.workflow_info_on_message = False
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return log_format


def _json_chain() -> list[Processor]:
    return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]


def _console_chain(colors: bool) -> list[Processor]:
    # plain_traceback, not structlog's default rich traceback: that one prints every frame's local variables,
    # and an adapter's locals can hold a token or a webhook URL.
    return [
        _shorten_temporal_context,
        _MarkAlarms(colors),
        structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=structlog.dev.plain_traceback),
    ]


def alarm_of(event_dict: Mapping[str, Any]) -> tuple[str, str] | None:
    """Pages and escalations sent (activities/notify.py logs `notify <kind> via ...` before each delivery),
    and notify activities that failed (the SDK's warning `Completing activity as failed`)."""
    message = str(event_dict.get("event", ""))
    activity_type = str(event_dict.get("activity", "")).partition("#")[0]
    if message.startswith("notify page "):
        return PAGE
    if message.startswith("notify escalation "):
        return ESCALATION
    if activity_type == "notify" and event_dict.get("level") in ("warning", "error", "critical"):
        return DELIVERY_FAILED
    return None


class _MarkAlarms:
    """Prefix the alarms' event text with a marker (reverse video on a colour terminal). A failed delivery
    reads as the channel's one-line error instead of the SDK's "Completing activity as failed" and its
    traceback, which say nothing more to a person (the JSON rendering keeps both)."""

    def __init__(self, colors: bool) -> None:
        self.colors = colors

    def __call__(self, logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
        alarm = alarm_of(event_dict)
        if alarm is None:
            return event_dict
        marker, style = alarm
        label = f"{style} {marker} {RESET}" if self.colors else f"[{marker}]"
        text = event_dict.get("event", "")
        if alarm is DELIVERY_FAILED:
            error = _exception_of(event_dict.pop("exc_info", None))
            text = f"{type(error).__name__}: {error}" if error is not None else text
        event_dict["event"] = f"{label} {text}"
        return event_dict


def _shorten_temporal_context(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """The SDK's extras are dicts of ids; a person needs which incident, and which activity and attempt."""
    for key in [key for key in event_dict if key.startswith("__")]:  # the SDK's internal markers
        del event_dict[key]
    details: MutableMapping[str, Any] = {
        **(event_dict.pop("temporal_workflow", None) or {}),
        **(event_dict.pop("temporal_activity", None) or {}),
    }
    if "workflow_id" in details:
        event_dict["incident"] = details["workflow_id"]
    if "activity_type" in details:
        event_dict["activity"] = f"{details['activity_type']}#{details.get('attempt', 1)}"
    return event_dict


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3 and isinstance(exc_info[1], BaseException):
        return exc_info[1]
    if exc_info is True:
        return sys.exc_info()[1]
    return None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _wants_colors(stream: TextIO) -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return _is_terminal(stream) and not os.environ.get("NO_COLOR")
