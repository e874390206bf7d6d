"""Repeated deliveries dropped at the door: a re-sent alert the incident already holds costs no signal.

Alertmanager re-sends a firing group every `repeat_interval`, Grafana and others re-deliver. The incident
ignores an `event_id` it has seen, but only after the signal is in its history (events, a workflow task, one
of the 10,000 signals a run may take). The intake remembers, per incident and alert identity, the event id of
the *last* delivery it handed over. A delivery is a repeat when it is that same delivery again; then one
strongly consistent read (describe, no history event) confirms the incident run that took it is still open.

What must still go through, and does:
- a resolve after firing, and a re-fire after that resolve: each is a different last delivery of the
  identity, even when a sender's re-fire is byte-identical to the first firing (PagerDuty, generic);
- a still-firing alert after the incident closed (a human resolved it): its run is no longer open, so the
  delivery goes through and opens a new incident, as it did without this memory.
The memory is per process, bounded (LRU) and time-limited; forgetting only costs the signal it saves.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

from workflows.messages.alerts import Alert

MEMORY_SIZE = 10_000


@dataclass
class _Delivered:
    event_id: str
    run_id: str | None  # the incident run that took it, when the hand-off said (signal-with-start does)
    expires: float


class RecentDeliveries:
    def __init__(self, window: timedelta, size: int = MEMORY_SIZE) -> None:
        self.seconds = window.total_seconds()
        self.size = size
        self._last: OrderedDict[tuple[str, str], _Delivered] = OrderedDict()

    def held_by(self, incident_id: str, alert: Alert) -> _Delivered | None:
        """The record of this exact delivery, if it was the last one of its alert handed to the incident."""
        if self.seconds <= 0 or not alert.event_id:
            return None
        last = self._last.get((incident_id, alert.identity))
        if last is None or last.event_id != alert.event_id or last.expires < time.monotonic():
            return None
        return last

    def still_held(self, incident_id: str, alert: Alert) -> None:
        """The incident was seen open with it: keep remembering (a steady repeat never expires)."""
        self.delivered(incident_id, alert, self._last[(incident_id, alert.identity)].run_id)

    def delivered(self, incident_id: str, alert: Alert, run_id: str | None) -> None:
        if self.seconds <= 0 or not alert.event_id:
            return
        key = (incident_id, alert.identity)
        self._last.pop(key, None)
        self._last[key] = _Delivered(alert.event_id, run_id, time.monotonic() + self.seconds)
        while len(self._last) > self.size:
            self._last.popitem(last=False)
