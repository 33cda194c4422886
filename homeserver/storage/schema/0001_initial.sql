-- Concord initial schema: accounts, events, state groups, rooms, sync streams.
-- Written once for SQLite and PostgreSQL; {BIGINT} and {BLOB} are dialect markers.

-- ---------------------------------------------------------------- accounts
CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    account_uuid TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_ts {BIGINT} NOT NULL,
    deactivated SMALLINT NOT NULL DEFAULT 0,
    is_admin SMALLINT NOT NULL DEFAULT 0,
    appservice_id TEXT
);

CREATE TABLE devices (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    display_name TEXT,
    created_ts {BIGINT} NOT NULL,
    last_seen_ts {BIGINT},
    last_seen_ip TEXT,
    PRIMARY KEY (user_id, device_id)
);

-- Tokens are stored as sha256 hashes, never in clear.
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    created_ts {BIGINT} NOT NULL,
    expires_ts {BIGINT},
    refresh_token_hash TEXT
);
CREATE INDEX access_tokens_device ON access_tokens (user_id, device_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    created_ts {BIGINT} NOT NULL,
    next_token_hash TEXT
);
CREATE INDEX refresh_tokens_device ON refresh_tokens (user_id, device_id);

-- Profile fields (displayname, avatar_url, im.concord.description, ...) as JSON values.
CREATE TABLE profiles (
    user_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user_id, field)
);

-- ---------------------------------------------------------------- rooms and events
CREATE TABLE rooms (
    room_id TEXT PRIMARY KEY,
    room_version TEXT NOT NULL,
    creator TEXT,
    is_public SMALLINT NOT NULL DEFAULT 0,
    created_ts {BIGINT} NOT NULL
);

-- One row per event we hold. stream_ordering is the position in the room-events
-- stream (positive for live events, negative for backfilled/outlier ones);
-- (depth, stream_ordering) is the topological order used by /messages.
CREATE TABLE events (
    stream_ordering {BIGINT} PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    room_id TEXT NOT NULL,
    type TEXT NOT NULL,
    state_key TEXT,
    sender TEXT NOT NULL,
    depth {BIGINT} NOT NULL,
    origin_server_ts {BIGINT} NOT NULL,
    received_ts {BIGINT} NOT NULL,
    json TEXT NOT NULL,
    rejected_reason TEXT,
    outlier SMALLINT NOT NULL DEFAULT 0,
    state_group_before {BIGINT},
    state_group_after {BIGINT},
    redacted_by TEXT,
    rel_type TEXT,
    relates_to TEXT
);
CREATE INDEX events_room_stream ON events (room_id, stream_ordering);
CREATE INDEX events_room_topo ON events (room_id, depth, stream_ordering);
CREATE INDEX events_relates ON events (relates_to, rel_type);

CREATE TABLE event_edges (
    event_id TEXT NOT NULL,
    prev_event_id TEXT NOT NULL,
    PRIMARY KEY (event_id, prev_event_id)
);
CREATE INDEX event_edges_prev ON event_edges (prev_event_id);

CREATE TABLE event_auth (
    event_id TEXT NOT NULL,
    auth_id TEXT NOT NULL,
    PRIMARY KEY (event_id, auth_id)
);

CREATE TABLE forward_extremities (
    room_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (room_id, event_id)
);

-- A state group is a full state map stored as a delta over prev_group; a group
-- with no prev_group is a snapshot. chain_length bounds lookups (a snapshot is
-- written when the chain would grow past a limit).
CREATE TABLE state_groups (
    id {BIGINT} PRIMARY KEY,
    room_id TEXT NOT NULL,
    prev_group {BIGINT},
    chain_length INTEGER NOT NULL
);

CREATE TABLE state_group_entries (
    group_id {BIGINT} NOT NULL,
    type TEXT NOT NULL,
    state_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (group_id, type, state_key)
);

CREATE TABLE current_state (
    room_id TEXT NOT NULL,
    type TEXT NOT NULL,
    state_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    membership TEXT,
    PRIMARY KEY (room_id, type, state_key)
);
CREATE INDEX current_state_member ON current_state (state_key, type);

-- The membership of our own users, for /joined_rooms and the sync sections.
CREATE TABLE local_memberships (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    membership TEXT NOT NULL,
    event_id TEXT NOT NULL,
    stream_ordering {BIGINT} NOT NULL,
    forgotten SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, room_id)
);
CREATE INDEX local_memberships_stream ON local_memberships (user_id, stream_ordering);

-- Client transaction ids make sends idempotent (scoped to the device).
CREATE TABLE txn_ids (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    txn_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created_ts {BIGINT} NOT NULL,
    PRIMARY KEY (user_id, device_id, txn_id)
);

CREATE TABLE redactions (
    event_id TEXT PRIMARY KEY,
    redacts TEXT NOT NULL
);
CREATE INDEX redactions_redacts ON redactions (redacts);

CREATE TABLE room_aliases (
    alias TEXT PRIMARY KEY,
    room_id TEXT NOT NULL,
    creator TEXT NOT NULL,
    created_ts {BIGINT} NOT NULL
);
CREATE INDEX room_aliases_room ON room_aliases (room_id);

-- ---------------------------------------------------------------- per-user data
CREATE TABLE account_data (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    type TEXT NOT NULL,
    content TEXT NOT NULL,
    stream_id {BIGINT} NOT NULL,
    PRIMARY KEY (user_id, room_id, type)
);
CREATE INDEX account_data_stream ON account_data (user_id, stream_id);

CREATE TABLE filters (
    user_id TEXT NOT NULL,
    filter_id {BIGINT} NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (user_id, filter_id)
);
