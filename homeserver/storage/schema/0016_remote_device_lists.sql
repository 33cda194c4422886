-- Device lists over federation (spec: server-server "Device Management", "End-to-End
-- Encryption"; client-server "Tracking the device list for a user").

-- Remote users whose device list we cache: stream_id is the last m.device_list_update
-- applied (or the stream_id of the /user/devices answer we resynced from); an EDU whose
-- prev_id is not that (or in the same batch) means we missed one and resync. stale:
-- a resync is due (a gap, a failed resync); the cache is not used to answer while set.
CREATE TABLE remote_device_list_users (
    user_id TEXT PRIMARY KEY,
    stream_id {BIGINT} NOT NULL,
    stale SMALLINT NOT NULL DEFAULT 0,
    updated_ts {BIGINT} NOT NULL
);

-- The cached devices of those users: keys as the origin sent them (NULL: a device
-- without keys yet).
CREATE TABLE remote_devices (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    keys_json TEXT,
    display_name TEXT,
    PRIMARY KEY (user_id, device_id)
);

-- Their cross-signing keys (usage: master, self_signing), from m.signing_key_update
-- and /user/devices.
CREATE TABLE remote_cross_signing_keys (
    user_id TEXT NOT NULL,
    usage TEXT NOT NULL,
    key_json TEXT NOT NULL,
    PRIMARY KEY (user_id, usage)
);

-- What peers were last told of each local user's devices (m.device_list_update): a
-- change is sent as the difference from here. /user/devices answers from the same rows,
-- so its stream_id always matches the devices it lists.
CREATE TABLE device_list_outbound (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    keys_json TEXT,
    display_name TEXT,
    PRIMARY KEY (user_id, device_id)
);

-- Per local user: the stream_id of the last m.device_list_update (ids count up per
-- user) and the cross-signing keys last sent in m.signing_key_update.
CREATE TABLE device_list_outbound_users (
    user_id TEXT PRIMARY KEY,
    stream_id {BIGINT} NOT NULL,
    cross_signing_json TEXT NOT NULL
);
