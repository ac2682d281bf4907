-- 0002: one-to-one messaging.
-- The offline queue is the receiver's messages still in status 1 (sent): message_ack moves them to 2, so a
-- separate offline_deliveries table (0001) would only double every write. ix_messages_inbox serves the login
-- push (receiver, status 1, oldest first) and unread counts (receiver, status 1-2, by sender).
-- Statements are idempotent (MariaDB commits DDL implicitly: a migration cut off halfway can run again).

DROP TABLE IF EXISTS offline_deliveries;

CREATE INDEX IF NOT EXISTS ix_messages_inbox ON messages (receiver_id, status, message_id);
