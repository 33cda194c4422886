-- Media repository: the metadata of local media (the bytes live on disk under
-- media_store_path, sharded by media id) and of the thumbnails generated from them.
-- spec: client-server "Content repository".

-- One row per mxc://<our server>/<media_id>. A row made by POST /media/v1/create has
-- upload_ts NULL (and unused_expires_ts set) until its content arrives with
-- PUT /media/v3/upload/{serverName}/{mediaId}; POST /media/v3/upload makes it uploaded.
CREATE TABLE local_media (
    media_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_ts {BIGINT} NOT NULL,
    unused_expires_ts {BIGINT},
    upload_ts {BIGINT},
    content_type TEXT,
    size {BIGINT},
    filename TEXT,
    sha256 TEXT
);
CREATE INDEX local_media_user ON local_media (user_id, upload_ts);

-- Thumbnails generated on demand and kept (the standard sizes): the key is what was
-- asked of the thumbnailer (box, method, animation), width/height what it produced.
CREATE TABLE local_media_thumbnails (
    media_id TEXT NOT NULL,
    box_width INTEGER NOT NULL,
    box_height INTEGER NOT NULL,
    method TEXT NOT NULL,
    animated SMALLINT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    size {BIGINT} NOT NULL,
    created_ts {BIGINT} NOT NULL,
    PRIMARY KEY (media_id, box_width, box_height, method, animated)
);
