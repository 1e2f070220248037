"""Command-line interface: `flask --app wsgi <command>`. One module per command group."""
from flask import Flask


def register(app: Flask) -> None:
    from app.cli import commendation, data, receipts, users
    from app.cli import donations as donation_commands
    from app.cli.stripe import stripe_cli

    app.cli.add_command(users.users)
    app.cli.add_command(data.init_data)
    app.cli.add_command(data.seed_demo)
    app.cli.add_command(donation_commands.donations)
    app.cli.add_command(receipts.receipts)
    app.cli.add_command(stripe_cli)
    app.cli.add_command(commendation.commendation_group)
    from app.cli.reports import reports_command

    app.cli.add_command(reports_command)
