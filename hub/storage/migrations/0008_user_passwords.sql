-- Dashboard logins: a salted scrypt hash per user (users with none log in by token only);
-- session tokens are ordinary tokens with an expiry and a kind.
ALTER TABLE users ADD COLUMN password_hash text;
ALTER TABLE tokens ADD COLUMN kind text NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'session'));
