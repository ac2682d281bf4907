-- 0009: search_messages finds group entries too (protocol.md §7, §9; docs/messaging.md "Search in groups").
-- One row per `text` entry, written behind the group writer by its own batcher (GroupSearchIndexer), like
-- message_search for one-to-one messages (0003, 0005): the terms come from the server's tokenizer (SearchText), each
-- behind the entry's group id ("7qwhello"), so a search asks only for the postings of the caller's own groups.
-- group_id and seq locate the entry (chat_group_entries' primary key) and the caller's membership; message_id orders
-- results newest first and is the catch-up's mark. No foreign key, for the reason of 0005: a derived index whose
-- writes must not take locks on the timeline's rows. A recall deletes the row in the recall's transaction.
-- Entries stored before this migration are indexed by the catch-up at the next start (everything after the newest
-- indexed message id, so all of them on the first start with an empty table, unless new sends are indexed first).
CREATE TABLE IF NOT EXISTS chat_group_search (
    message_id  BIGINT UNSIGNED NOT NULL,
    group_id    BIGINT UNSIGNED NOT NULL,
    seq         BIGINT UNSIGNED NOT NULL,
    terms       MEDIUMTEXT      NOT NULL,
    PRIMARY KEY (message_id),
    FULLTEXT KEY ft_chat_group_search_terms (terms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
