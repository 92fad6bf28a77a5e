"""The WSGI entry point for a production server: `gunicorn backend.wsgi:app`.

Behind a reverse proxy, set PROXY_FIX_X_FOR (and friends) to the number of proxies in front,
so that request.remote_addr (log-in throttling, audit rows) is the client's, not the proxy's.
"""

from __future__ import annotations

import os

from backend import create_app

# The production entry point: development secrets are refused unless said otherwise.
os.environ.setdefault("ENVIRONMENT", "production")
app = create_app()
