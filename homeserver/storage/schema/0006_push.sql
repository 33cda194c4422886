-- Push notifications: the user's push rules on top of the server defaults, what the
-- rules decided for each event, and pushers.
-- spec: client-server "Push Notifications".

-- A user's own rules (rule ids never start with a dot). Within one kind, a higher
-- priority is a more important rule. conditions (override/underride) and actions are
-- JSON arrays, pattern is the glob of a content rule.
CREATE TABLE push_rules (
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    priority INTEGER NOT NULL,
    conditions TEXT,
    pattern TEXT,
    actions TEXT NOT NULL,
    enabled SMALLINT NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, kind, rule_id)
);

-- A user's changes to server-default rules (NULL: the default's own value).
CREATE TABLE push_rule_defaults (
    user_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    enabled SMALLINT,
    actions TEXT,
    PRIMARY KEY (user_id, rule_id)
);

-- The actions push rules gave an event for a user, when they notify or highlight:
-- /notifications, the unread counts of /sync and the pushers read them.
-- One row per notified user and event, written in the event's own transaction: keyed
-- for the unread counts (user, room, after a position). SQLite stores it WITHOUT ROWID:
-- one B-tree per row instead of three.
-- dialect: sqlite
CREATE TABLE event_push_actions (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    stream_ordering {BIGINT} NOT NULL,
    event_id TEXT NOT NULL,
    actions TEXT NOT NULL,
    notify SMALLINT NOT NULL,
    highlight SMALLINT NOT NULL,
    ts {BIGINT} NOT NULL,
    PRIMARY KEY (user_id, room_id, stream_ordering)
) WITHOUT ROWID;
-- dialect: postgres
CREATE TABLE event_push_actions (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    stream_ordering {BIGINT} NOT NULL,
    event_id TEXT NOT NULL,
    actions TEXT NOT NULL,
    notify SMALLINT NOT NULL,
    highlight SMALLINT NOT NULL,
    ts {BIGINT} NOT NULL,
    PRIMARY KEY (user_id, room_id, stream_ordering)
);
-- dialect: all

-- How far background consumers of the room-events stream have got (the push rule
-- evaluator), so that a restart resumes where they stopped.
CREATE TABLE push_positions (
    name TEXT PRIMARY KEY,
    position {BIGINT} NOT NULL
);

-- spec: client-server "POST /pushers/set". last_stream_ordering is the pusher's
-- position among its user's notifications: everything up to it was delivered.
CREATE TABLE pushers (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    pushkey TEXT NOT NULL,
    kind TEXT NOT NULL,
    app_display_name TEXT NOT NULL,
    device_display_name TEXT NOT NULL,
    profile_tag TEXT,
    lang TEXT NOT NULL,
    data TEXT NOT NULL,
    device_id TEXT,
    pushkey_ts {BIGINT} NOT NULL,
    last_stream_ordering {BIGINT} NOT NULL,
    PRIMARY KEY (user_id, app_id, pushkey)
);
CREATE INDEX pushers_key ON pushers (app_id, pushkey);
