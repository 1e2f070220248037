from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import EqualTo

from app.forms import email_address, max_length, required
from app.models import Role


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[required("Vui lòng nhập email."), max_length(254)])
    password = PasswordField("Mật khẩu", validators=[required("Vui lòng nhập mật khẩu."), max_length(200)])
    remember = BooleanField("Ghi nhớ đăng nhập")
    submit = SubmitField("Đăng nhập")


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Mật khẩu hiện tại", validators=[required(), max_length(200)])
    new_password = PasswordField("Mật khẩu mới", validators=[required(), max_length(200)])
    confirm = PasswordField("Nhập lại mật khẩu mới", validators=[
        required(), max_length(200), EqualTo("new_password", message="Hai mật khẩu mới không khớp.")])
    submit = SubmitField("Đổi mật khẩu")


class UserCreateForm(FlaskForm):
    email = EmailField("Email", validators=[required(), email_address(), max_length(254)])
    name = StringField("Họ tên", validators=[required(), max_length(200)])
    role = SelectField("Vai trò", choices=[(r.value, r.label) for r in Role])
    password = PasswordField("Mật khẩu ban đầu", validators=[required(), max_length(200)])
    submit = SubmitField("Tạo tài khoản")
