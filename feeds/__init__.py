"""feeds: publish Atom, RSS and JSON feeds from newsroom record files."""

from feeds.config import Settings, load_settings
from feeds.errors import ConfigError, ExportError, FeedsError, RecordError, StoreError
from feeds.ingest import IngestReport, ingest
from feeds.model import Image, Provider, Record, Related
from feeds.store import Store

__all__ = [
    "ConfigError",
    "ExportError",
    "FeedsError",
    "Image",
    "IngestReport",
    "Provider",
    "Record",
    "RecordError",
    "Related",
    "Settings",
    "Store",
    "StoreError",
    "ingest",
    "load_settings",
]

__version__ = "0.1.0"
