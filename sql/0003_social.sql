-- 0003: social extras (protocol.md §7): blocks, friend remarks and groups, per-user message deletion, message search.
-- Statements are idempotent (IF NOT EXISTS) because MariaDB commits DDL implicitly: a migration cut off halfway
-- can simply run again. Design notes: docs/friends.md, docs/messaging.md.

-- user_id blocked blocked_id. Both directions are asked ("is there a block between us, either way"), hence the
-- second key.
CREATE TABLE IF NOT EXISTS user_blocks (
    user_id     INT UNSIGNED NOT NULL,
    blocked_id  INT UNSIGNED NOT NULL,
    created_at  BIGINT       NOT NULL,
    PRIMARY KEY (user_id, blocked_id),
    KEY ix_user_blocks_blocked (blocked_id, user_id),
    CONSTRAINT fk_user_blocks_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE,
    CONSTRAINT fk_user_blocks_blocked FOREIGN KEY (blocked_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A user's own groups. Group 0 ("default") is implicit, never a row. uca1400_as_ci compares ignoring case but not
-- accents, so "Work" and "work" clash while "Café" and "Cafe" do not.
CREATE TABLE IF NOT EXISTS friend_groups (
    group_id    INT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id     INT UNSIGNED NOT NULL,
    group_name  VARCHAR(32)  CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_as_ci NOT NULL,
    created_at  BIGINT       NOT NULL,
    PRIMARY KEY (group_id),
    UNIQUE KEY uk_friend_groups_name (user_id, group_name),
    CONSTRAINT fk_friend_groups_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The remark and the group are the owner's (user_id's) private view of one direction of the friendship.
-- INVISIBLE: `SELECT *` and `INSERT ... VALUES` without a column list (tools, older scripts) still see the three
-- columns of 0001; the server always names the columns it reads.
ALTER TABLE friendships
    ADD COLUMN IF NOT EXISTS remark   VARCHAR(64)  NOT NULL DEFAULT '' INVISIBLE,
    ADD COLUMN IF NOT EXISTS group_id INT UNSIGNED NOT NULL DEFAULT 0 INVISIBLE;

-- delete_message: one row per (user, message) the user deleted for themselves; every read of "my messages"
-- anti-joins it by primary key.
CREATE TABLE IF NOT EXISTS message_deletions (
    user_id     INT UNSIGNED    NOT NULL,
    message_id  BIGINT UNSIGNED NOT NULL,
    deleted_at  BIGINT          NOT NULL,
    PRIMARY KEY (user_id, message_id),
    CONSTRAINT fk_message_deletions_message FOREIGN KEY (message_id) REFERENCES messages (message_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- search_messages: terms the server derives from each message's content (SearchText: a marker and the lowercased
-- word for spaced scripts; overlapping two-character terms for Chinese and Japanese, since MariaDB has no ngram
-- parser), in their own table so that the messages rows stay narrow and a recall simply deletes the row.
-- sender_id/receiver_id/user_lo/user_hi let the search filter by user without reading messages first.
CREATE TABLE IF NOT EXISTS message_search (
    message_id   BIGINT UNSIGNED NOT NULL,
    sender_id    INT UNSIGNED    NOT NULL,
    receiver_id  INT UNSIGNED    NOT NULL,
    user_lo      INT UNSIGNED    NOT NULL,
    user_hi      INT UNSIGNED    NOT NULL,
    terms        MEDIUMTEXT      NOT NULL,
    PRIMARY KEY (message_id),
    FULLTEXT KEY ft_message_search_terms (terms),
    CONSTRAINT fk_message_search_message FOREIGN KEY (message_id) REFERENCES messages (message_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Messages stored before this migration have no terms and are not found by search_messages: the terms come from
-- the server's tokenizer (SearchText), which SQL cannot reproduce. No installation had messages before this
-- feature shipped; a re-index tool is the answer if one ever does.
