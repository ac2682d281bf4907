-- 0007: client_msg_id is compared byte for byte. Under the table's utf8mb4_unicode_ci, "Key", "key", "Kéy" and
-- "Key " were one key: the unique key made INSERT IGNORE skip the later ones while their senders were answered
-- `sent` (issue 16). utf8mb4_nopad_bin, not utf8mb4_bin: MariaDB's utf8mb4_bin is a PAD SPACE collation and would
-- still take "Key" and "Key " for one. Still utf8mb4, so a stored id reads back as the same string.
-- One DDL statement; restating the same definition is a no-op, so a re-run after a partial failure is safe. The
-- old collation was looser, so existing rows cannot collide under the new one. On a large messages table this
-- rebuilds the unique key (run `qkchatd migrate` by hand in a quiet hour).

ALTER TABLE messages MODIFY COLUMN client_msg_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL;
