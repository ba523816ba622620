-- People who sign in to the dashboards, with a role: viewer, operator (ack, silence), admin.

CREATE TABLE users (
    username      VARCHAR     NOT NULL PRIMARY KEY,
    role          VARCHAR     NOT NULL,   -- viewer | operator | admin
    password_hash VARCHAR     NOT NULL,   -- scrypt$n$r$p$salt$hash
    created_at    TIMESTAMPTZ NOT NULL,
    disabled_at   TIMESTAMPTZ
);
