"""Containment adapters: the only code that changes the system during an incident (HAProxy, automation
endpoints, admin endpoints, diagnostic snapshots). The interface is in `base.py`; `activities/contain_registry.py` builds the
adapters this worker's configuration names."""
