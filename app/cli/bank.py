"""`flask --app wsgi bank …`: statement import, pledge expiry.

Languages (issue 17): why a file is refused and each bad row are in CLI_LANG (Vietnamese
unless CLI_LANG=en), the same sentences the import page shows. The one-line summaries
("Layout mb, account …: 5 lines, 5 new…", "Imported (#3): matched 1, …") stay English, like
click's own help and the other commands' summaries: they name raw state codes and are read
by cron logs and scripts."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.adapters.statements import StatementError
from app.i18n import _
from app.services.audit import Actor


@click.group("bank")
def bank_cli():
    """Bank transfers: statements and pledges."""


@bank_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--account", "account_number", default=None, help="The fund's account number the statement is for "
              "(default: the number printed in the statement).")
@click.option("--layout", default="auto", show_default=True,
              help="auto|vietcombank|vietinbank|bidv|mb|techcombank|NAME of an admin-defined layout.")
@click.option("--dry-run", is_flag=True, help="Read and check only; write nothing.")
@with_appcontext
def import_statement(file: Path, account_number: str | None, layout: str, dry_run: bool):
    """Import a bank statement (XLSX/CSV): new lines are recorded and matched; a re-import adds nothing."""
    from app.services.bank import statements

    try:
        plan = statements.plan_statement(file.read_bytes(), file.name, account_number=account_number, layout=layout)
    except StatementError as error:
        for row, message in error.errors:
            click.echo("  " + _("dòng %(row)s: %(message)s", row=row, message=message), err=True)
        raise click.ClickException(error.message) from None
    st = plan.statement
    click.echo(f"Layout {plan.layout}, account {plan.account.account_number}: {len(st.lines)} lines, "
               f"{len(plan.new)} new, {plan.known} already recorded.")
    for difference in st.differences:
        click.echo(f"  balance: {difference}")
    if dry_run:
        click.echo("Dry run: nothing written.")
        return
    record = statements.import_statement(plan, Actor.system("cli"))
    from app.extensions import db
    from app.models import BankLine

    import sqlalchemy as sa

    counts = dict(db.session.execute(sa.select(BankLine.state, sa.func.count()).where(
        BankLine.statement_import_id == record.id).group_by(BankLine.state)).all())
    click.echo(f"Imported (#{record.id}): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ".")


@bank_cli.command("expire-pledges")
@with_appcontext
def expire_pledges():
    """Mark unpaid transfer pledges past their expiry as expired (cron, daily)."""
    from app.services.bank.pledges import expire_pledges as run

    click.echo(f"{run()} pledges expired.")
