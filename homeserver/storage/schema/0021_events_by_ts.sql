-- "Jump to date" (spec: client-server "GET /rooms/{roomId}/timestamp_to_event",
-- server-server "GET /timestamp_to_event"): the event of a room closest to a time.
CREATE INDEX events_room_ts ON events (room_id, origin_server_ts);
