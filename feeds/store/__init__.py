"""The store: records, which feed holds which record, and cached entry fragments."""

from feeds.store.sqlite import ALL_FEED, FeedRow, FileState, Store, StoredRecord

__all__ = ["ALL_FEED", "FeedRow", "FileState", "Store", "StoredRecord"]
