-- A login name resolves to at most one account: a username may not equal another user's
-- e-mail, nor an e-mail another user's username or e-mail, compared case-insensitively (blank
-- e-mails never clash). The application checks the cross-column rules under a lock; this
-- migration makes e-mails unique in the database and first clears the duplicates that earlier
-- versions allowed, so that the unique index can be built.
--
-- Nothing is deleted: every e-mail taken off an account is kept in login_name_conflicts, with
-- why and when, for an operator to review and hand back (by hand, once the clash is resolved).
-- Nobody loses their username, which stays a working login for every account.
CREATE TABLE login_name_conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email VARCHAR(254) NOT NULL,
    -- username_of_another_user: the e-mail equalled another account's username.
    -- email_of_another_user: an account with a lower id has the same e-mail.
    reason VARCHAR(32) NOT NULL,
    found_at BIGINT NOT NULL
);
CREATE INDEX login_name_conflicts_user_idx ON login_name_conflicts (user_id);

-- 1. An e-mail equal to another account's username: usernames are the primary login name and
--    are looked up first, so that username keeps working and the e-mail is taken off.
INSERT INTO login_name_conflicts (user_id, email, reason, found_at)
SELECT u.id, u.email, 'username_of_another_user', CAST(strftime('%s', 'now') AS INTEGER)
FROM users u
WHERE u.email <> ''
  AND EXISTS (SELECT 1 FROM users o WHERE o.id <> u.id AND lower(o.username) = lower(u.email))
ORDER BY u.id;

UPDATE users SET email = ''
WHERE id IN (SELECT user_id FROM login_name_conflicts WHERE reason = 'username_of_another_user');

-- 2. An e-mail shared by several accounts: the oldest account (lowest id) keeps it, as the
--    password grant already chose that one; the others' copies are taken off.
INSERT INTO login_name_conflicts (user_id, email, reason, found_at)
SELECT u.id, u.email, 'email_of_another_user', CAST(strftime('%s', 'now') AS INTEGER)
FROM users u
WHERE u.email <> ''
  AND EXISTS (
      SELECT 1 FROM users o
      WHERE o.id < u.id AND o.email <> '' AND lower(o.email) = lower(u.email)
  )
ORDER BY u.id;

UPDATE users SET email = ''
WHERE id IN (SELECT user_id FROM login_name_conflicts WHERE reason = 'email_of_another_user');

-- 3. From now on the database refuses a second account with the same e-mail; the unique index
--    also serves the case-insensitive e-mail lookup of a login, which states `email <> ''` to
--    use it. Usernames get a case-insensitive index for the check of a new e-mail against them.
DROP INDEX users_email_lower_idx;
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email)) WHERE email <> '';
CREATE INDEX users_username_lower_idx ON users (lower(username));
