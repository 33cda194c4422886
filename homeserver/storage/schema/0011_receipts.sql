-- Receipts (spec: client-server "Receipts"): the newest receipt of each type per user,
-- room and thread ('' = unthreaded), on the receipts stream (stream_id, allocated by the
-- single writer). event_stream is the receipted event's stream ordering: a receipt only
-- moves forward, and unread counts start after it.
CREATE TABLE receipts (
    room_id TEXT NOT NULL,
    receipt_type TEXT NOT NULL,
    user_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_stream {BIGINT} NOT NULL,
    ts {BIGINT} NOT NULL,
    stream_id {BIGINT} NOT NULL,
    PRIMARY KEY (room_id, receipt_type, user_id, thread_id)
);
CREATE INDEX receipts_stream_id ON receipts (stream_id);
CREATE INDEX receipts_room_stream ON receipts (room_id, stream_id);
