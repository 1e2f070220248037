"""`flask --app wsgi backup create --output DIR` and `backup restore DIR` (app/services/backup.py)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.errors import DomainError
from app.services import backup as backups

backup = AppGroup("backup", help="Back up and restore the database and stored files.")


@backup.command("create")
@click.option("--output", required=True, type=click.Path(file_okay=False),
              help="New folder for the backup (must not hold one already).")
def create(output: str):
    """A consistent backup of every table and every stored file into OUTPUT."""
    try:
        manifest = backups.create(output)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    except Exception:
        backups.remove_partial(output)
        raise
    rows = sum(manifest["counts"].values())
    click.echo(f"Backup {output}: {rows} rows in {len(manifest['counts'])} tables, "
               f"{manifest['documents']} documents, {manifest['files']} files, "
               f"{manifest['receipt_count']} receipts.")


@backup.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
def restore(source: str):
    """Load a backup into an EMPTY database (migrated to the backup's revision) and check it."""
    try:
        result = backups.restore(source)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Restored {sum(result['counts'].values())} rows; {result['receipt_count']} receipts, "
               f"donations sum {result['donation_amount_sum']} đồng: matches the backup.")
