-- The federation sender's memory (spec: server-server "Transactions"), so a restart
-- keeps each destination's backoff and catches it up on what it missed.
--
-- federation_destinations: per remote server, the exponential backoff in force
-- (retry_interval_ms 0: none; the next attempt is due at retry_last_ts +
-- retry_interval_ms) and the stream ordering of the newest local event it acknowledged
-- (last_successful_stream), from where catch-up starts.
CREATE TABLE federation_destinations (
    destination TEXT NOT NULL PRIMARY KEY,
    retry_last_ts {BIGINT} NOT NULL DEFAULT 0,
    retry_interval_ms {BIGINT} NOT NULL DEFAULT 0,
    failure_ts {BIGINT},
    last_successful_stream {BIGINT} NOT NULL DEFAULT 0
);

-- Per destination and room, the newest local event meant for it: what catch-up sends
-- when the destination comes back after missing events (it then fetches the gap
-- itself with /get_missing_events).
CREATE TABLE federation_destination_rooms (
    destination TEXT NOT NULL,
    room_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    stream_ordering {BIGINT} NOT NULL,
    PRIMARY KEY (destination, room_id)
);
CREATE INDEX federation_destination_rooms_stream
    ON federation_destination_rooms (destination, stream_ordering);

-- EDUs that must not be lost (to-device messages): kept until a transaction carrying
-- them succeeds. message_id dedupes a client's retried /sendToDevice while queued.
CREATE TABLE federation_outbox (
    id {BIGINT} NOT NULL PRIMARY KEY,
    destination TEXT NOT NULL,
    edu_type TEXT NOT NULL,
    message_id TEXT NOT NULL,
    content TEXT NOT NULL,
    created_ts {BIGINT} NOT NULL
);
CREATE UNIQUE INDEX federation_outbox_message ON federation_outbox (destination, message_id);
CREATE INDEX federation_outbox_destination ON federation_outbox (destination, id);
