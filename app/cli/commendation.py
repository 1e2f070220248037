"""`flask --app wsgi commendation export --year 2023 --format xlsx|csv|pdf --output PATH
[--threshold N] [--submission NUMBER]`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.errors import DomainError
from app.services import commendation
from app.vnd import format_vnd


@click.group("commendation")
def commendation_group():
    """The yearly commendation list (donors at or above the threshold)."""


@commendation_group.command("export")
@click.option("--year", type=int, required=True, help="Year of the donations (Vietnam time).")
@click.option("--format", "fmt", type=click.Choice(sorted(commendation.FORMATS)), required=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="File to write.")
@click.option("--threshold", type=click.IntRange(min=1), default=None,
              help="Threshold in dong for a draft list (default: fund settings).")
@click.option("--submission", "number", default=None,
              help="Export a frozen submission exactly as frozen, e.g. DS-2024-01.")
@with_appcontext
def export(year: int, fmt: str, output: Path, threshold: int | None, number: str | None):
    """Write the list of YEAR: today's draft, or a frozen submission (--submission)."""
    try:
        if number:
            if threshold is not None:
                raise click.UsageError("--threshold cannot be used with --submission: "
                                       "a frozen list keeps its own threshold.")
            submission = commendation.get_submission_by_number(number)
            if submission.year != year:
                raise click.UsageError(f"Submission {submission.number} is the list of "
                                       f"{submission.year}, not {year}.")
            document = commendation.submission_document(submission)
        else:
            document = commendation.live_document(commendation.build_list(year, threshold=threshold))
        exported = commendation.render(document, fmt)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    output.write_bytes(exported.data)
    kind = f"frozen submission {document.submission_number}" if document.submission_number else "draft"
    click.echo(f"Wrote {output} ({fmt}, {kind}, year {year}, threshold "
               f"{format_vnd(document.threshold)}): {len(document.organizations)} organizations, "
               f"{len(document.individuals)} individuals, total {format_vnd(document.grand_total)}.")
