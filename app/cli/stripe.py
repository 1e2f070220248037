"""`flask --app wsgi stripe sync --since YYYY-MM-DD`: catch up on missed webhooks."""
from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from app.adapters.stripe_gateway import GatewayError
from app.timeutil import local_to_utc

stripe_cli = AppGroup("stripe", help="Stripe Checkout maintenance.")


@stripe_cli.command("sync")
@click.option("--since", required=True, metavar="YYYY-MM-DD",
              help="Look at sessions created on or after this day (Vietnam time).")
def sync(since: str):
    """Ask Stripe for completed Checkout Sessions and confirm any donation whose webhook
    never arrived. Safe to run again: a second run changes nothing."""
    from app.blueprints.giving import current_gateway
    from app.services.donations.online import sync_completed_sessions

    try:
        day = datetime.strptime(since, "%Y-%m-%d")
    except ValueError:
        raise click.BadParameter("expected YYYY-MM-DD, e.g. 2024-06-01", param_hint="--since") from None
    with current_app.test_request_context(base_url=current_app.config.get("PUBLIC_BASE_URL")):
        gateway = current_gateway()
    if gateway is None:
        raise click.ClickException("Online giving is off: set STRIPE_SECRET_KEY.")
    if gateway.demo:
        click.echo("Demo mode (no STRIPE_SECRET_KEY): demo payments are confirmed at once; nothing to sync.")
        return
    try:
        result = sync_completed_sessions(gateway, local_to_utc(day))
    except GatewayError as error:  # unreachable or failing: try again later (exit 1)
        current_app.logger.error("stripe sync: Stripe unreachable: %s", error)
        raise click.ClickException(f"Stripe unreachable, nothing lost; run again later: {error}") from None
    if result.not_found:
        click.echo(f"Stripe answered 404 (not found), not retried: {result.not_found}", err=True)
    click.echo(f"Completed sessions seen: {result.seen}; confirmed now: {result.confirmed}; "
               f"flagged for staff: {result.flagged}; unchanged: {result.unchanged}.")
