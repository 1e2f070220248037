"""`flask --app wsgi reports NAME --year Y [--from DATE --to DATE] [--appeal SLUG]
--format pdf|xlsx|csv --output PATH [--frozen NUMBER]`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.errors import DomainError
from app.services.reports import catalogue, freezing
from app.services.reports.period import make_period


@click.command("reports")
@click.argument("name", type=click.Choice(catalogue.NAMES))
@click.option("--year", type=int, required=True, help="Year of the report (Vietnam time).")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day (YYYY-MM-DD) within the year; default 1 January (action-month: 1 June).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day (YYYY-MM-DD) within the year; default 31 December (action-month: 30 June).")
@click.option("--appeal", default=None, help="Appeal slug (report `appeal` only).")
@click.option("--format", "fmt", type=click.Choice(catalogue.FORMATS), required=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True)
@click.option("--frozen", "number", default=None,
              help="Write a frozen report exactly as frozen (its number, e.g. BC-2025-CK-01).")
@with_appcontext
def reports_command(name, year, start, end, appeal, fmt, output, number):
    """Write report NAME for YEAR: disclosure, appeal (--appeal SLUG), action-month,
    restricted-funds or donors."""
    try:
        if number:
            frozen = freezing.get_by_number(number)
            if frozen.report != name or frozen.year != year:
                raise click.UsageError(f"{frozen.number} is the {frozen.report} report of {frozen.year}.")
            exported = freezing.export_frozen(frozen, fmt)
        else:
            period = make_period(year, start.date() if start else None, end.date() if end else None)
            if name == "action-month" and start is None and end is None:
                from app.services.reports.action_month import default_period

                period = default_period(year)
            if name != "appeal" and appeal:
                raise click.UsageError("--appeal is only for the `appeal` report.")
            exported = catalogue.export(name, period, fmt, appeal=appeal)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    output.write_bytes(exported.data)
    click.echo(f"Wrote {output} ({name}, {fmt}, {len(exported.data):,} bytes).")


