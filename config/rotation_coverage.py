"""Rotations over the 7x24 UTC week: where they leave nobody on call, and the moments worth checking.

Who a reference resolves to only changes at a shift boundary, so checking every boundary of every rotation
(plus midnight) covers the whole week without sampling: a lint that says "resolves to somebody" is exact.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from workflows.roster import WEEKDAYS, Roster, Rotation

DAY_SECONDS = 86_400
# A Monday at 00:00 UTC: the reference week every moment below is taken from.
REFERENCE_MONDAY = datetime(2024, 1, 1)


def _seconds(clock: time | None) -> int:
    return DAY_SECONDS if clock is None else clock.hour * 3600 + clock.minute * 60 + clock.second


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def rotation_gaps(rotation: Rotation) -> list[str]:
    """Every stretch of the week with nobody on shift, per day, as "mon 12:00-24:00"."""
    gaps = []
    for day in WEEKDAYS:
        covered = sorted(
            (_seconds(shift.start), _seconds(shift.end)) for shift in rotation.shifts if day in shift.days
        )
        cursor = 0
        for start, end in covered:
            if start > cursor:
                gaps.append(f"{day} {_clock(cursor)}-{_clock(start)}")
            cursor = max(cursor, end)
        if cursor < DAY_SECONDS:
            gaps.append(f"{day} {_clock(cursor)}-{_clock(DAY_SECONDS)}")
    return gaps


def boundary_moments(roster: Roster) -> list[datetime]:
    """Every instant of the reference week at which some rotation may change hands (midnight included)."""
    offsets = {0}
    for rotation in roster.rotations.values():
        for shift in rotation.shifts:
            offsets |= {_seconds(shift.start) % DAY_SECONDS, _seconds(shift.end) % DAY_SECONDS}
    return [
        REFERENCE_MONDAY + timedelta(days=day, seconds=offset)
        for day in range(len(WEEKDAYS))
        for offset in sorted(offsets)
    ]


def describe_moment(moment: datetime) -> str:
    """A reference-week moment the way an operator reads a rota: "sat 00:00"."""
    return f"{WEEKDAYS[moment.weekday()]} {moment:%H:%M}"
