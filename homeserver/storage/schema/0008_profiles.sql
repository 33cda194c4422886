-- Profiles, the user directory, OpenID tokens and content reports.
-- Profile fields themselves live in `profiles` (0001).

-- ---------------------------------------------------------------- user directory
-- spec: client-server "User Directory". One row per user the server has seen in a room
-- (and every local user whose profile changed): the name shown, and `search_text`, the
-- case-folded words of the user id and the display name, each preceded by a space, so
-- that a word prefix is `LIKE '% prefix%'` on both databases.
CREATE TABLE user_directory (
    user_id TEXT PRIMARY KEY,
    display_name TEXT,
    avatar_url TEXT,
    search_text TEXT NOT NULL
);

-- Rooms whose joined members anyone may find: `public` join rule or `world_readable`
-- history visibility.
CREATE TABLE user_directory_public_rooms (
    room_id TEXT PRIMARY KEY
);

-- The room-events stream position up to which the two tables above are up to date
-- (no row: nothing indexed yet, rebuild from the start).
CREATE TABLE user_directory_position (
    id SMALLINT PRIMARY KEY,
    stream_ordering {BIGINT} NOT NULL
);

-- ---------------------------------------------------------------- OpenID
-- spec: client-server "OpenID". Tokens stored as sha256 hex, never in clear.
CREATE TABLE openid_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_ts {BIGINT} NOT NULL
);
CREATE INDEX openid_tokens_expiry ON openid_tokens (expires_ts);

-- ---------------------------------------------------------------- content reports
-- spec: client-server "Reporting Content": events, rooms and users, for the admins.
CREATE TABLE content_reports (
    id {BIGINT} PRIMARY KEY,
    kind TEXT NOT NULL,
    reporter TEXT NOT NULL,
    room_id TEXT,
    event_id TEXT,
    target_user_id TEXT,
    reason TEXT,
    score INTEGER,
    received_ts {BIGINT} NOT NULL
);
CREATE INDEX content_reports_received ON content_reports (received_ts);
