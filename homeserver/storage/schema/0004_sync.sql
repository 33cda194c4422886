-- Sync: the account-data stream's position is the table's highest stream_id,
-- read at start and allocated by the single writer.
CREATE INDEX account_data_stream_id ON account_data (stream_id);
