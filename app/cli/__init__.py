"""Command-line interface: `flask --app wsgi <command>`. One module per command group."""
from flask import Flask


def register(app: Flask) -> None:
    from app.cli import commendation, data, users

    app.cli.add_command(users.users)
    app.cli.add_command(data.init_data)
    app.cli.add_command(data.seed_demo)
    app.cli.add_command(commendation.commendation_group)
