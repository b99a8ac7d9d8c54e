-- Sign-ins through the OpenID provider that have left for it and not come
-- back yet: the state (stored as its SHA-256), the nonce and the PKCE
-- verifier. A row is deleted when its callback arrives, so a state works once.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY NOT NULL,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
