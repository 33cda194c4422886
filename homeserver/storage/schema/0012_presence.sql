-- Presence (spec: client-server "Presence"): what each local user chose (online,
-- unavailable, busy, offline; status message), their last activity, and the state last
-- published to others on the presence stream (stream_id, allocated by the single writer).
CREATE TABLE presence (
    user_id TEXT NOT NULL PRIMARY KEY,
    chosen TEXT NOT NULL,
    status_msg TEXT,
    last_active_ts {BIGINT} NOT NULL,
    published TEXT NOT NULL,
    currently_active SMALLINT NOT NULL,
    stream_id {BIGINT} NOT NULL
);
CREATE INDEX presence_stream_id ON presence (stream_id);
