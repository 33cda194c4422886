-- A user's latest event in a room (unread counts start after it: sending reads what
-- came before), found by an index seek instead of a scan of the room.
CREATE INDEX events_sender_room ON events (sender, room_id, stream_ordering);
