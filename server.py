"""The ASGI entry point: ``uvicorn server:app``; settings from $FEEDS_CONFIG or feeds.yaml."""

from feeds.app import create_app
from feeds.config import load_settings

app = create_app(load_settings())
