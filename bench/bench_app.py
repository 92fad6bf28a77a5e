"""The app that bench/api.py serves under gunicorn: the real app plus a bare JSON route on the
same server (the floor)."""

from backend import create_app

app = create_app()
app.add_url_rule("/bench/bare", "bench_bare", lambda: {"ok": True})
