-- End-to-end encryption (spec: client-server "End-to-End Encryption", "Send-to-Device
-- messaging"): device keys, one-time and fallback keys, cross-signing keys and
-- signatures, the device-lists and to-device streams, server-side key backups.

-- Positions of the e2ee streams that must never go back even when rows are deleted
-- (to-device messages are deleted once delivered). Allocated by the single writer.
CREATE TABLE e2e_stream_positions (
    stream TEXT PRIMARY KEY,
    position {BIGINT} NOT NULL
);

-- A device's identity keys, as uploaded (canonical JSON).
CREATE TABLE e2e_device_keys (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    key_json TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- Unclaimed one-time keys; upload_seq orders them (one value per upload call).
CREATE TABLE e2e_one_time_keys (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    key_id TEXT NOT NULL,
    key_json TEXT NOT NULL,
    upload_seq {BIGINT} NOT NULL,
    PRIMARY KEY (user_id, device_id, algorithm, key_id)
);
CREATE INDEX e2e_one_time_keys_order ON e2e_one_time_keys (user_id, device_id, algorithm, upload_seq);

-- At most one fallback key per device and algorithm; ``used`` once claimed.
CREATE TABLE e2e_fallback_keys (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    key_id TEXT NOT NULL,
    key_json TEXT NOT NULL,
    used SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, device_id, algorithm)
);

-- Cross-signing keys: usage is master, self_signing or user_signing.
CREATE TABLE e2e_cross_signing_keys (
    user_id TEXT NOT NULL,
    usage TEXT NOT NULL,
    public_key TEXT NOT NULL,
    key_json TEXT NOT NULL,
    PRIMARY KEY (user_id, usage)
);

-- Signatures uploaded through /keys/signatures/upload, kept apart from the keys they
-- sign so that each viewer sees only those the spec lets them see. target_key_id is a
-- device id or the public key of a master key.
CREATE TABLE e2e_cross_signing_signatures (
    signer_user_id TEXT NOT NULL,
    signer_key_id TEXT NOT NULL,
    target_user_id TEXT NOT NULL,
    target_key_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (target_user_id, target_key_id, signer_user_id, signer_key_id)
);

-- The device-lists stream: user_id's devices or cross-signing keys changed at stream_id.
-- only_for: a change only that user is told about (their signature of user_id's key).
CREATE TABLE device_list_changes (
    stream_id {BIGINT} NOT NULL,
    user_id TEXT NOT NULL,
    only_for TEXT
);
CREATE INDEX device_list_changes_stream ON device_list_changes (stream_id);

-- Send-to-device messages waiting for their device, on the to-device stream.
CREATE TABLE to_device_messages (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    stream_id {BIGINT} NOT NULL,
    message_json TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id, stream_id)
);

-- Client transaction ids of /sendToDevice (idempotence per sending device).
CREATE TABLE to_device_txns (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    txn_id TEXT NOT NULL,
    created_ts {BIGINT} NOT NULL,
    PRIMARY KEY (user_id, device_id, txn_id)
);

-- Server-side key backups: versions (kept, marked deleted, so numbers are not reused)
-- and their keys. etag moves whenever the backup's keys change.
CREATE TABLE e2e_room_key_versions (
    user_id TEXT NOT NULL,
    version {BIGINT} NOT NULL,
    algorithm TEXT NOT NULL,
    auth_data TEXT NOT NULL,
    etag {BIGINT} NOT NULL DEFAULT 0,
    deleted SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, version)
);

CREATE TABLE e2e_room_keys (
    user_id TEXT NOT NULL,
    version {BIGINT} NOT NULL,
    room_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    first_message_index {BIGINT} NOT NULL,
    forwarded_count {BIGINT} NOT NULL,
    is_verified SMALLINT NOT NULL,
    session_data TEXT NOT NULL,
    PRIMARY KEY (user_id, version, room_id, session_id)
);
