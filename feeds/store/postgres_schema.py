"""The PostgreSQL store's tables: SQLite's (``sqlite.py``) in PostgreSQL's types.

Text that is sorted or compared is ``COLLATE "C"``: code-point order, as SQLite and Python
compare, whatever the database's locale, so both backends list feeds and entries alike.
https://www.postgresql.org/docs/current/collation.html
"""

from feeds.store import ALL_FEED

__all__ = ["SCHEMA", "SCHEMA_VERSION", "STATE", "STORE_ID"]

SCHEMA_VERSION = "2"

_C = 'TEXT COLLATE "C"'
# A store's id, made once, so a database made anew never repeats an older one's state.
STORE_ID = ("INSERT INTO meta VALUES ('store_id', md5(random()::text || clock_timestamp()::text)) "
            "ON CONFLICT DO NOTHING;")
STATE = ("SELECT (SELECT value FROM meta WHERE key='store_id') || ':' "
         "|| (SELECT coalesce(max(seq), 0) FROM changes)")
SCHEMA = f"""
CREATE TABLE meta (key {_C} PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    path {_C} PRIMARY KEY, size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL,
    digest TEXT NOT NULL, record_id {_C}, error TEXT,
    retry BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX files_by_record ON files (record_id);
CREATE TABLE records (
    id {_C} PRIMARY KEY, path {_C} NOT NULL, digest TEXT NOT NULL, url {_C} NOT NULL,
    -- 0 no, 1 yes, 2 (SCHEDULED) yes but dated ahead: outside the memberships until due.
    published SMALLINT NOT NULL, published_at BIGINT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX records_by_url ON records (url);
CREATE INDEX records_scheduled ON records (published_at) WHERE published = 2;
-- What ?min_quality, ?min_heat and ?q test: " word word " of title and excerpt.
CREATE TABLE filters (
    record_id {_C} PRIMARY KEY, quality INTEGER, heat INTEGER, words TEXT NOT NULL
);
CREATE TABLE groups (
    path {_C} PRIMARY KEY, kind {_C} NOT NULL, key {_C} NOT NULL, name TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0, UNIQUE (kind, key)
);
CREATE TABLE memberships (
    feed {_C} NOT NULL, published_at BIGINT NOT NULL, record_id {_C} NOT NULL,
    PRIMARY KEY (feed, published_at, record_id)
);
CREATE INDEX memberships_by_record ON memberships (record_id);
CREATE TABLE fragments (
    record_id {_C} NOT NULL, format {_C} NOT NULL, key TEXT NOT NULL, body BYTEA NOT NULL,
    PRIMARY KEY (record_id, format)
);
-- The change log (outbox): one row per committed transaction that changed feeds.
CREATE TABLE changes (
    seq BIGSERIAL PRIMARY KEY, feeds TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');
{STORE_ID}
INSERT INTO groups (path, kind, key, name) VALUES ('{ALL_FEED}', 'all', '', '');
"""
