-- 0005: message_search is a derived index, written by its own batcher after the messages are stored. Its foreign
-- key made every term insert take a shared lock on the message row, which deadlocked against message_ack's
-- locking read of the same rows under load. Messages are never deleted (a recall unindexes explicitly), so the
-- key protected nothing. Idempotent like every migration.

ALTER TABLE message_search DROP FOREIGN KEY IF EXISTS fk_message_search_message;
