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
    from app.cli.bank import bank_cli

    app.cli.add_command(bank_cli)

    from app.cli.accounts import accounts  # donor accounts (issue 16)

    app.cli.add_command(accounts)

    from app.cli.backup import backup
    from app.cli.worker import worker

    app.cli.add_command(worker)
    app.cli.add_command(backup)

    from app.cli.reports import reports_command

    app.cli.add_command(reports_command)
