-- Server-side search (spec: client-server "Server Side Search"): a full-text index of
-- the searchable key of each event (content.body of m.room.message, content.name of
-- m.room.name, content.topic of m.room.topic), one row per event, keyed by the event's
-- stream_ordering. The pipeline adds rows in each event's persist transaction and
-- deletes them when a redaction applies (homeserver/rooms/search_text.py says what is
-- indexed: the text's lower-cased words joined by spaces, the same on both engines).
-- The backfills below index the events persisted before this migration.

-- dialect: sqlite
-- An FTS5 table; its rowid is events.stream_ordering. Diacritics are kept (as
-- PostgreSQL's `simple` configuration keeps them), so both engines match alike.
-- (json_extract ends a text at a \u0000: the rest of such a text is not backfilled.)
CREATE VIRTUAL TABLE event_search USING fts5(
    value,
    key UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0'
);

INSERT INTO event_search (rowid, key, value)
SELECT stream_ordering, 'content.body', json_extract(json, '$.content.body')
FROM events
WHERE type = 'm.room.message' AND state_key IS NULL AND outlier = 0
    AND rejected_reason IS NULL AND redacted_by IS NULL
    AND json_type(json, '$.content.body') = 'text';

INSERT INTO event_search (rowid, key, value)
SELECT stream_ordering, 'content.name', json_extract(json, '$.content.name')
FROM events
WHERE type = 'm.room.name' AND state_key = '' AND outlier = 0
    AND rejected_reason IS NULL AND redacted_by IS NULL
    AND json_type(json, '$.content.name') = 'text';

INSERT INTO event_search (rowid, key, value)
SELECT stream_ordering, 'content.topic', json_extract(json, '$.content.topic')
FROM events
WHERE type = 'm.room.topic' AND state_key = '' AND outlier = 0
    AND rejected_reason IS NULL AND redacted_by IS NULL
    AND json_type(json, '$.content.topic') = 'text';

-- dialect: postgres
-- A tsvector per event with a GIN index. The `simple` configuration (lower-casing, no
-- stemming, no stop words) rather than `english`: rooms are in every language, and
-- stemming English words would mangle the others and drop words like "it" or "the"
-- from the index; it also matches what FTS5 does on SQLite. Ranking is ts_rank.
CREATE TABLE event_search (
    stream_ordering BIGINT PRIMARY KEY,
    key TEXT NOT NULL,
    vector TSVECTOR NOT NULL
);

CREATE INDEX event_search_vector ON event_search USING GIN (vector);

-- The CASE keeps events holding \u0000 (which jsonb refuses) away from the cast.
INSERT INTO event_search (stream_ordering, key, vector)
SELECT stream_ordering, 'content.body', to_tsvector('simple', regexp_replace(
    lower(CAST(json AS jsonb) -> 'content' ->> 'body'), '[^[:alnum:]]+', ' ', 'g'))
FROM events
WHERE type = 'm.room.message' AND state_key IS NULL AND outlier = 0
    AND rejected_reason IS NULL AND redacted_by IS NULL
    AND CASE WHEN strpos(json, '\u0000') > 0 THEN FALSE
        ELSE jsonb_typeof(CAST(json AS jsonb) -> 'content' -> 'body') = 'string' END;

INSERT INTO event_search (stream_ordering, key, vector)
SELECT stream_ordering, 'content.name', to_tsvector('simple', regexp_replace(
    lower(CAST(json AS jsonb) -> 'content' ->> 'name'), '[^[:alnum:]]+', ' ', 'g'))
FROM events
WHERE type = 'm.room.name' AND state_key = '' AND outlier = 0
    AND rejected_reason IS NULL AND redacted_by IS NULL
    AND CASE WHEN strpos(json, '\u0000') > 0 THEN FALSE
        ELSE jsonb_typeof(CAST(json AS jsonb) -> 'content' -> 'name') = 'string' END;

INSERT INTO event_search (stream_ordering, key, vector)
SELECT stream_ordering, 'content.topic', to_tsvector('simple', regexp_replace(
    lower(CAST(json AS jsonb) -> 'content' ->> 'topic'), '[^[:alnum:]]+', ' ', 'g'))
FROM events
WHERE type = 'm.room.topic' AND state_key = '' AND outlier = 0
    AND rejected_reason IS NULL AND redacted_by IS NULL
    AND CASE WHEN strpos(json, '\u0000') > 0 THEN FALSE
        ELSE jsonb_typeof(CAST(json AS jsonb) -> 'content' -> 'topic') = 'string' END;
