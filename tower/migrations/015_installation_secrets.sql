-- Secrets an installation makes for itself on first use (e.g. the PII hashing salt). They stay
-- with the database, so a restored backup hashes the same values the same way.

CREATE TABLE installation_secrets (
    name       VARCHAR     NOT NULL PRIMARY KEY,
    value      VARCHAR     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
