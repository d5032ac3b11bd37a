"""The ASGI entry point: ``uvicorn server:app [--workers N]``; settings from $FEEDS_CONFIG or feeds.yaml."""

import logging

from feeds.app import worker_app

# The app's own access log and WebSub messages (uvicorn configures only its own loggers);
# a --log-config given to uvicorn takes precedence. Run uvicorn with --no-access-log.
logging.basicConfig(level=logging.INFO, format="%(message)s")
app = worker_app()
