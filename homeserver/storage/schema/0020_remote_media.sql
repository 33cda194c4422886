-- Media of other servers, fetched over federation on first download and kept here
-- (spec: server-server "Content Repository"). The bytes live in the media store under
-- remote_content/, the file named by the hash of (server name, media id).
CREATE TABLE remote_media (
    server_name TEXT NOT NULL,
    media_id TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size {BIGINT} NOT NULL,
    filename TEXT,
    sha256 TEXT NOT NULL,
    fetched_ts {BIGINT} NOT NULL,
    PRIMARY KEY (server_name, media_id)
);
