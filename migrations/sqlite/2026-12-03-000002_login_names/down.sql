-- Back to e-mails that need not be unique: every e-mail this migration took off is handed back
-- (each account has at most one record: only a non-blank e-mail can be taken off).
DROP INDEX users_username_lower_idx;
DROP INDEX users_email_lower_key;
CREATE INDEX users_email_lower_idx ON users (lower(email));

UPDATE users SET email = (
    SELECT c.email FROM login_name_conflicts c WHERE c.user_id = users.id ORDER BY c.id LIMIT 1
)
WHERE email = '' AND id IN (SELECT user_id FROM login_name_conflicts);

DROP TABLE login_name_conflicts;
