from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import EqualTo

from app.forms import email_address, max_length, required
from app.i18n import _l
from app.models import Role
from app.models.user import ROLE_LABELS


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[required(_l("Vui lòng nhập email.")), max_length(254)])
    password = PasswordField(_l("Mật khẩu"), validators=[required(_l("Vui lòng nhập mật khẩu.")), max_length(200)])
    remember = BooleanField(_l("Ghi nhớ đăng nhập"))
    submit = SubmitField(_l("Đăng nhập"))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"), validators=[required(), max_length(200)])
    new_password = PasswordField(_l("Mật khẩu mới"), validators=[required(), max_length(200)])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"), validators=[
        required(), max_length(200), EqualTo("new_password", message=_l("Hai mật khẩu mới không khớp."))])
    submit = SubmitField(_l("Đổi mật khẩu"))


class UserCreateForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[required(), email_address(), max_length(254)])
    name = StringField(_l("Họ tên"), validators=[required(), max_length(200)])
    role = SelectField(_l("Vai trò"), choices=[(r.value, ROLE_LABELS[r]) for r in Role])
    password = PasswordField(_l("Mật khẩu ban đầu"), validators=[required(), max_length(200)])
    submit = SubmitField(_l("Tạo tài khoản"))
