"""`warroom notify test CHANNEL`: send one test message through a configured channel, straight from this
process (no Temporal needed), so an operator can check a channel's configuration and secrets."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import uuid4

import typer

notify_app = typer.Typer(help="Notification channels (configured by WARROOM_CHANNELS).", no_args_is_help=True)


@notify_app.command("test")
def test_channel(
    channel: Annotated[
        str, typer.Argument(metavar="CHANNEL", help="Channel name from the channels file (or 'console').")
    ],
    to: Annotated[str, typer.Option(help="Recipient name shown in the message.")] = "operator",
    email: Annotated[str | None, typer.Option(help="Address for e-mail channels (besides `to:`).")] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="Message kind (page, status_update, ...). PagerDuty default: page, then resolution."
        ),
    ] = None,
) -> None:
    """Send a test message via CHANNEL and say what the channel answered. Exit 1 if it failed."""
    from temporalio.exceptions import ApplicationError

    from activities.channels import build_notifiers
    from config.channels import ChannelConfigError, load_channels
    from workflows.messages.common import Severity
    from workflows.messages.notifications import Notification, NotificationKind, Recipient

    try:
        config = load_channels()
        notifiers = build_notifiers(config)
    except ChannelConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    if channel not in notifiers:
        typer.echo(
            f"error: unknown channel '{channel}' (configured: {', '.join(sorted(notifiers))})", err=True
        )
        raise typer.Exit(1)
    if kind is not None:
        if kind not in set(NotificationKind):
            choices = ", ".join(NotificationKind)
            raise typer.BadParameter(f"{kind!r} is not one of: {choices}", param_hint="'--kind'")
        kinds = [NotificationKind(kind)]
    elif config.channels[channel].type == "pagerduty":
        kinds = [NotificationKind.PAGE, NotificationKind.RESOLUTION]  # never leave a test alert open
    else:
        kinds = [NotificationKind.STATUS_UPDATE]
    key = f"warroom-test-{uuid4().hex[:12]}"
    failed = False
    for message_kind in kinds:
        notification = Notification(
            idempotency_key=f"{key}/{message_kind.value}/{channel}",
            incident_id=key,
            kind=message_kind,
            channel=channel,
            recipients=[to],
            contacts=[Recipient(name=to, email=email)],
            severity=Severity.SEV4,
            service="warroom",
            subject=f"warroom test message via '{channel}'",
            body=f"If you can read this, the '{channel}' channel works. No incident is open.",
        )
        try:
            result = asyncio.run(notifiers[channel].send(notification))
        except ApplicationError as error:
            typer.echo(f"FAILED {message_kind.value}: {error.message}", err=True)
            failed = True
            continue
        typer.echo(
            f"{result.outcome if not result.delivered else 'sent'} {message_kind.value}: {result.detail}"
        )
        failed = failed or not result.delivered
    raise typer.Exit(1 if failed else 0)
