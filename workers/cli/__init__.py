"""The `warroom` command line, one module per job:

app.py              the typer app, global options, the entry point and its exit codes
processes.py        run, worker, intake: the long-running processes
commands.py         declare, status, list: open and read incidents
steering.py         ack, note, resolve, ...: send one command, report what the incident did
options.py          options several commands share, and validation errors named after the option typed
impact.py           the impact options (--users, --region, ...) as one object that builds an `Impact`
incident_client.py  connect, read an incident's status, tell a missing incident from a closed one
temporal_errors.py  Temporal failures turned into one-line messages that name the likely fix
render.py           the status view and the list table
notify.py, errors.py  `warroom notify test`; the one error type for users
"""

from __future__ import annotations


def main() -> None:
    """Console entry point (`warroom = "workers.cli:main"`). The app is imported here, not at package import,
    so that workers.policy_cli (which the app mounts) can import this package's impact options and errors
    without an import cycle."""
    from workers.cli.app import main as run_app

    run_app()
