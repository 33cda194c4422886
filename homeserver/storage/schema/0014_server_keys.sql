-- Other servers' signing keys (spec: server-server "Retrieving server keys"), fetched from
-- the server itself or through a notary. valid_until_ts is the response's valid_until_ts
-- capped at fetch time + 7 days (rooms v5 "Signing key validity period") for a current
-- key, or the expired_ts of an old one.
CREATE TABLE server_signing_keys (
    server_name TEXT NOT NULL,
    key_id TEXT NOT NULL,
    verify_key TEXT NOT NULL,
    valid_until_ts {BIGINT} NOT NULL,
    fetched_ts {BIGINT} NOT NULL,
    PRIMARY KEY (server_name, key_id)
);
-- The latest self-signed key document of each server as it sent it (canonical JSON),
-- which our notary endpoint serves with our signature added.
CREATE TABLE server_key_responses (
    server_name TEXT NOT NULL PRIMARY KEY,
    valid_until_ts {BIGINT} NOT NULL,
    fetched_ts {BIGINT} NOT NULL,
    response TEXT NOT NULL
);
