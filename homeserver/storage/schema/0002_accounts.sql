-- Accounts: indexes for refresh-token rotation.
-- spec: client-server "Refreshing access tokens" — the old refresh token stays valid until
-- the new access or refresh token is first used; these lookups find the predecessor and the
-- access tokens a refresh token issued.
CREATE INDEX refresh_tokens_next ON refresh_tokens (next_token_hash);
CREATE INDEX access_tokens_refresh ON access_tokens (refresh_token_hash);
