"""`flask --app wsgi donations import FILE [--skip-invalid] [--no-receipts]`."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.errors import DomainError
from app.services.donations import importer
from app.services.audit import Actor


@click.group()
def donations():
    """Donations: bulk import."""


@donations.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows even if some rows have errors.")
@click.option("--no-receipts", is_flag=True, help="Do not issue receipts (historical data).")
@with_appcontext
def import_command(file: Path, skip_invalid: bool, no_receipts: bool):
    """Import donations from a CSV (UTF-8) or XLSX file. Columns: received_at, donor_kind,
    donor_name, tax_code, email, phone, address, amount_vnd, channel, appeal, programme,
    reference, note. Nothing is written when a row has an error, unless --skip-invalid."""
    started = time.perf_counter()
    data = file.read_bytes()
    bar = {"obj": None}

    def progress(stage, done, total):
        if stage == "validate":
            click.echo(f"  checked {done} rows…", err=True)
        elif stage == "write":
            if bar["obj"] is None:
                bar["obj"] = click.progressbar(length=total, label="Writing", file=sys.stderr)
                bar["obj"].__enter__()
            bar["obj"].update(done - bar["obj"].pos)

    try:
        plan, result = importer.import_file(data, file.name, Actor.system("cli-import"),
                                            skip_invalid=skip_invalid, issue_receipts=not no_receipts,
                                            progress=progress)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    finally:
        if bar["obj"] is not None:
            bar["obj"].__exit__(None, None, None)
    for line in plan.errors:
        click.echo(str(line))
    if plan.error_count > len(plan.errors):
        click.echo(f"… and {plan.error_count - len(plan.errors)} more errors.")
    if plan.unknown_columns:
        click.echo("Ignored unknown columns: " + ", ".join(plan.unknown_columns))
    click.echo(f"Rows in file: {plan.total_rows}; invalid: {plan.invalid_rows}; "
               f"already imported (same reference, or same content for rows without one): {plan.already_imported}.")
    if plan.possible_duplicates:
        click.echo(f"Possible duplicate individuals (same name, no shared email/phone; review and merge in the back office): "
                   f"{len(plan.possible_duplicates)}")
        for dup in plan.possible_duplicates[:50]:
            others = [f"#{i}" for i in dup.existing_ids] + [f"row {r}" for r in dup.other_rows]
            click.echo(f"  row {dup.row}: {dup.name} ~ {', '.join(others)}")
        if len(plan.possible_duplicates) > 50:
            click.echo(f"  … and {len(plan.possible_duplicates) - 50} more")
    if result is None:
        raise click.ClickException(
            f"{plan.error_count} errors in {plan.invalid_rows} rows; nothing was written "
            "(fix the file, or use --skip-invalid to import the valid rows).")
    elapsed = time.perf_counter() - started
    click.echo(f"Imported {result.donations} donations ({result.donors_created} new donors, "
               f"{plan.matched_rows} rows matched to existing donors, {result.receipts} receipts) "
               f"in {elapsed:.1f} s.")
