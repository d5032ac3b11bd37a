"""The ASGI entry point: ``uvicorn server:app``; settings from $FEEDS_CONFIG or feeds.yaml."""

import logging

from feeds.app import create_app
from feeds.config import load_settings
from feeds.memory import return_freed_blocks

# The app's own access log and WebSub messages (uvicorn configures only its own loggers);
# a --log-config given to uvicorn takes precedence. Run uvicorn with --no-access-log.
logging.basicConfig(level=logging.INFO, format="%(message)s")
return_freed_blocks()
app = create_app(load_settings())
