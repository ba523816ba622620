-- API keys: only a hash of each secret is kept; the key itself is shown once, at creation.

CREATE TABLE api_keys (
    key_id       VARCHAR     NOT NULL PRIMARY KEY,  -- the public part, also in the key's text
    name         VARCHAR     NOT NULL,
    scopes       VARCHAR[]   NOT NULL,              -- ingest, read, admin
    secret_hash  VARCHAR     NOT NULL,              -- sha256 of the secret part, hex
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   VARCHAR     NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
