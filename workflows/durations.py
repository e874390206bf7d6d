"""Durations as humans type them in policies and signals: "90s", "15m", "2h", "1d" (or seconds, ISO 8601).

A policy timing of zero or less is rarely a choice and often a runaway: `status_updates.every: 0s` would
nudge in an endless loop. So the schema types each timing by what it may be: `PositiveDuration` (an
interval, a deadline, a budget) or `NonNegativeDuration` (an offset where 0 means "at once").
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> object:
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    return value


def format_duration(span: timedelta) -> str:
    """The shortest exact human form: 15m, 2h, 1d, 1h30m (a negative span keeps its sign: -5m)."""
    if span < timedelta(0):
        return "-" + format_duration(-span)
    seconds = int(span.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _positive(span: timedelta) -> timedelta:
    if span <= timedelta(0):
        raise ValueError(f"must be longer than 0s, got {format_duration(span)}")
    return span


def _not_negative(span: timedelta) -> timedelta:
    if span < timedelta(0):
        raise ValueError(f"must be 0s (at once) or longer, got {format_duration(span)}")
    return span


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]
NonNegativeDuration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_not_negative)]
