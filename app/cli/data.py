"""`flask --app wsgi init-data` and `flask --app wsgi seed-demo`."""
import click
from flask import current_app
from flask.cli import with_appcontext

from app.services import setup
from app.demo import donations as demo


@click.command("init-data")
@with_appcontext
def init_data():
    """Install the reference data (programmes, settings, wards). Safe to run again."""
    setup.ensure_reference_data()
    click.echo("Reference data in place.")


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Fill an empty database with fictional demo data and demo logins. Idempotent."""
    if not current_app.config.get("DEMO_MODE_ALLOWED"):
        raise click.ClickException("seed-demo is disabled in production.")
    created = demo.seed_demo()
    from app.demo.bank import seed_bank_account

    if seed_bank_account():
        click.echo("Demo bank account created (fictional): replace it at /staff/bank/accounts.")
    click.echo("Demo data created." if created else "Demo data already present; nothing changed.")
    click.echo("Demo logins (password for all: %s):" % demo.DEMO_PASSWORD)
    for email, _name, role in demo.DEMO_USERS:
        click.echo(f"  {role:<12} {email}")
