-- SCIM provisioning: bearer tokens HR makes for an identity provider, kept as SHA-256.
CREATE TABLE scim_tokens (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

-- What an identity provider said about a person (kind 'User', local_id an employee)
-- or a team (kind 'Group'): its externalId, userName and the SCIM attributes as sent,
-- so they read back as written. Deleting a User through SCIM keeps the employee (with
-- a departure) and marks this row deleted: the User is gone for SCIM.
CREATE TABLE scim_resources (
    id INTEGER PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    local_id INTEGER NOT NULL,
    external_id TEXT,
    user_name TEXT,
    attributes TEXT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (kind, local_id)
);
