"""The freeze form of the staff report pages: the report's parameters travel with the POST
(and through the confirmation step) so that exactly the report shown is frozen."""
from flask_wtf import FlaskForm
from wtforms import HiddenField

from app.forms import max_length, optional


class ReportFreezeForm(FlaskForm):
    year = HiddenField(validators=[max_length(4)])
    date_from = HiddenField(validators=[optional(), max_length(10)])
    date_to = HiddenField(validators=[optional(), max_length(10)])
    appeal = HiddenField(validators=[optional(), max_length(120)])
