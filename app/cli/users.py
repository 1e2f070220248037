"""`flask --app wsgi users create|list|deactivate`."""
import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from app.errors import DomainError
from app.extensions import db
from app.i18n import _
from app.models import Role, User
from app.services import users as user_service
from app.services.audit import Actor


@click.group()
def users():
    """Staff accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given (use the option only in scripts).")
@with_appcontext
def create(email, name, role, password):
    """Create a staff account."""
    try:
        user = user_service.create_user(email, name, role, password, Actor.system("cli"))
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(_("Đã tạo tài khoản %(email)s (%(role)s).", email=user.email, role=user.role))


@users.command("list")
@with_appcontext
def list_users():
    """List staff accounts."""
    for user in db.session.scalars(sa.select(User).order_by(User.email)):
        state = _("hoạt động") if user.is_active_account else _("đã khóa")
        click.echo(f"{user.id:>4}  {user.email:<40} {user.role:<12} {state:<8} {user.name}")


@users.command("deactivate")
@click.argument("email")
@with_appcontext
def deactivate(email):
    """Deactivate an account (it can no longer sign in; its history stays)."""
    try:
        user = user_service.get_user_by_email(email)
        user_service.set_active(user.id, False, Actor.system("cli"))
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(_("Đã vô hiệu hóa tài khoản %(email)s.", email=user.email))
