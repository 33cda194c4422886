-- Indexes for the client room read paths (/messages, /context, visibility).

-- transaction_id of events in client responses is looked up by event id.
CREATE INDEX txn_ids_event ON txn_ids (event_id);

-- A user's membership history and a room's history_visibility history.
CREATE INDEX events_room_state_key ON events (room_id, type, state_key);
