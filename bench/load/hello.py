"""The yardstick: a bare Flask "hello" served by the same gunicorn as the app."""
from flask import Flask

app = Flask(__name__)


@app.route("/hello", methods=["GET", "POST"])  # POST: the webhook storms' yardstick
def hello():
    return "hello"
