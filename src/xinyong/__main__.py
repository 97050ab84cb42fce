"""``python -m xinyong``: the command line."""

from xinyong.cli import app

app()
