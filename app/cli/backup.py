"""`flask --app wsgi backup create|restore` (filled in below)."""
from flask.cli import AppGroup

backup = AppGroup("backup", help="Back up and restore the database and files.")
