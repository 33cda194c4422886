-- The application-service pusher's memory (spec: application-service API "Pushing
-- events"), so a restart neither loses nor repeats a transaction.
--
-- appservice_states: per registration id, how far the room-events stream has been
-- turned into transactions (stream_position: every event up to it is in a sent or a
-- pending transaction; to_device_position: the same for the to-device stream), the
-- next transaction id to use (never reused), and the exponential backoff in force while the application service is down
-- (retry_interval_ms 0: none; the next attempt is due at retry_last_ts +
-- retry_interval_ms).
CREATE TABLE appservice_states (
    as_id TEXT NOT NULL PRIMARY KEY,
    stream_position {BIGINT} NOT NULL,
    to_device_position {BIGINT} NOT NULL DEFAULT 0,
    next_txn_id {BIGINT} NOT NULL DEFAULT 1,
    retry_last_ts {BIGINT} NOT NULL DEFAULT 0,
    retry_interval_ms {BIGINT} NOT NULL DEFAULT 0
);

-- Transactions built but not yet acknowledged: the body exactly as sent, so a retry
-- (after a failure or a restart) resends the same id with the same content.
CREATE TABLE appservice_txns (
    as_id TEXT NOT NULL,
    txn_id {BIGINT} NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (as_id, txn_id)
);
