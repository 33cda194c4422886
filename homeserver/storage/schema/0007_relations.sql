-- Event relationships (spec: client-server "Forming relationships between events").
-- One row per valid child event, written in the event's own persist transaction and
-- deleted when the child is redacted (the redaction breaks the relationship).
-- (depth, stream_ordering) is the child's topological position, as in /messages.
CREATE TABLE event_relations (
    event_id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL,
    relates_to_id TEXT NOT NULL,
    rel_type TEXT NOT NULL,
    aggregation_key TEXT,
    sender TEXT NOT NULL,
    type TEXT NOT NULL,
    origin_server_ts {BIGINT} NOT NULL,
    depth {BIGINT} NOT NULL,
    stream_ordering {BIGINT} NOT NULL
);
CREATE INDEX event_relations_parent ON event_relations (relates_to_id, depth, stream_ordering);
CREATE INDEX event_relations_parent_type ON event_relations
    (relates_to_id, rel_type, depth, stream_ordering);
CREATE INDEX event_relations_room ON event_relations (room_id);

-- One row per thread root (spec: "Threading"): the thread's latest event, for
-- GET /threads (newest activity first) and the bundled m.thread summary.
CREATE TABLE threads (
    room_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    latest_event_id TEXT NOT NULL,
    latest_depth {BIGINT} NOT NULL,
    latest_stream {BIGINT} NOT NULL,
    PRIMARY KEY (thread_id, room_id)
);
CREATE INDEX threads_room_latest ON threads (room_id, latest_depth, latest_stream);
