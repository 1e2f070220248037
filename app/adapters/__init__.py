"""Adapters to the outside world (payment provider …), each behind a small interface of ours."""
