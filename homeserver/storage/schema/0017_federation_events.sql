-- Federation: events in a DAG with forks, and the places where our history has gaps.
--
-- events.outlier now has three values: 0 an event of the room's timeline, 1 an outlier
-- (known for its own sake — an auth chain or state event fetched over federation, a
-- remote invite — with no place in the timeline), 2 a soft-failed event (spec:
-- server-server "Soft failure": it has state and may be a prev event, but clients never
-- see it). Every client-facing read already asks for outlier = 0.
--
-- state_group_current: the room's current state group right after this event was
-- persisted, where that differs from the event's own state (state_group_after) because
-- the room has several forward extremities whose states were resolved; NULL otherwise.
ALTER TABLE events ADD COLUMN state_group_current {BIGINT};

-- Events whose prev events we do not hold: backfill starts from their prev events.
CREATE TABLE backward_extremities (
    room_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (room_id, event_id)
);

-- Inbound /send transactions already processed, per origin (spec: server-server
-- "Transactions" — a retried transaction id gets the same answer and no second run).
CREATE TABLE received_transactions (
    origin TEXT NOT NULL,
    txn_id TEXT NOT NULL,
    response TEXT NOT NULL,
    received_ts {BIGINT} NOT NULL,
    PRIMARY KEY (origin, txn_id)
);
