-- Who may see and do what (issue 14): users with one role and one
-- jurisdiction, their sessions and bearer tokens (stored hashed), and a
-- hash-chained audit log.
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    role          text NOT NULL CHECK (role IN ('admin', 'commander', 'grid_worker', 'planner', 'approver',
                                                'responder', 'auditor', 'viewer', 'gateway', 'sensor')),
    region        text NOT NULL DEFAULT '' CHECK (region ~ '^([0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})?$'),
    unit_id       bigint REFERENCES units (id),
    password_hash text, -- NULL: tokens only (machines) or single sign-on
    subject       text UNIQUE, -- the OpenID Connect subject, when the user logs in that way
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'responder' OR unit_id IS NOT NULL),
    CHECK (role <> 'grid_worker' OR length(region) = 15)
);

CREATE TABLE credentials (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    kind        text NOT NULL CHECK (kind IN ('session', 'token')),
    secret_hash text NOT NULL UNIQUE CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX credentials_user_idx ON credentials (user_id);

-- Every replica caches credential checks; a revocation, a disabled user or
-- a changed role must reach all of them at once.
CREATE FUNCTION auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'credentials' THEN
        PERFORM pg_notify('wangge_auth', 'credential:' || NEW.id);
    ELSE
        PERFORM pg_notify('wangge_auth', 'user:' || NEW.id);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER credentials_changed AFTER UPDATE ON credentials
    FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at)
    EXECUTE FUNCTION auth_changed();
CREATE TRIGGER users_changed AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD.disabled_at IS DISTINCT FROM NEW.disabled_at OR OLD.role IS DISTINCT FROM NEW.role
                       OR OLD.region IS DISTINCT FROM NEW.region OR OLD.unit_id IS DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION auth_changed();

-- The audit log: every write and every read of personal data. Each row's
-- hash covers its fields and the previous row's hash, and audit_head holds
-- the last id and hash, so `wangge audit verify` finds a changed, inserted
-- or deleted row (the last one included).
CREATE TABLE audit_log (
    id         bigint PRIMARY KEY CHECK (id > 0),
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    role       text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL,
    request_id text NOT NULL,
    client     text NOT NULL,
    outcome    text NOT NULL,
    prev_hash  text NOT NULL,
    hash       text NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
CREATE INDEX audit_log_target_idx ON audit_log (target, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);

CREATE TABLE audit_head (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_id bigint NOT NULL,
    hash    text NOT NULL
);
INSERT INTO audit_head (last_id, hash) VALUES (0, repeat('0', 64));
