-- 0008: group chat (issue 18, protocol.md §9). Tables are named chat_groups* so they are never taken for the friend
-- groups of 0003 (which sort one's friends), and because GROUPS is a reserved word in MySQL 8.
-- One timeline per group keyed by (group_id, seq); no per-member inbox rows: an offline member catches up by seq.
-- Times are Unix milliseconds. One CREATE TABLE per table with its keys inside, each guarded with IF NOT EXISTS, so a
-- re-run after a partial failure completes what is missing (docs/storage.md, "Migrations and transactions").

-- max_seq is the group's seq counter: a batch of entries locks the row, takes the next seqs from it and writes it
-- once, in the batch's transaction (docs/storage.md, "Group chat"). member_count is kept by the transactions that
-- change membership (they lock this row too), so the cap check and get_groups need no COUNT(*).
-- A dissolved group keeps its rows (dissolved_at set) and is NOT_FOUND for everyone.
CREATE TABLE IF NOT EXISTS chat_groups (
    group_id      BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
    name          VARCHAR(64)      NOT NULL,
    owner_id      INT UNSIGNED     NOT NULL,
    created_at    BIGINT           NOT NULL,
    max_seq       BIGINT UNSIGNED  NOT NULL DEFAULT 0,
    member_count  INT UNSIGNED     NOT NULL DEFAULT 0,
    dissolved_at  BIGINT           NULL,
    PRIMARY KEY (group_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per (group, user) ever a member. role: 0 member, 1 admin, 2 owner. state: 0 member, 1 left, 2 removed;
-- left_seq is the seq of the member_left / member_removed entry. joined_seq is the seq of the user's own `created`
-- or `member_added` entry: history and sync start there. read_seq only grows (GREATEST in every UPDATE).
-- A user added again gets the same row back with a new joined_seq.
-- ix_chat_group_members_user serves "my groups" (user, still a member) without touching other users' rows.
CREATE TABLE IF NOT EXISTS chat_group_members (
    group_id    BIGINT UNSIGNED  NOT NULL,
    user_id     INT UNSIGNED     NOT NULL,
    role        TINYINT UNSIGNED NOT NULL DEFAULT 0,
    state       TINYINT UNSIGNED NOT NULL DEFAULT 0,
    joined_seq  BIGINT UNSIGNED  NOT NULL,
    read_seq    BIGINT UNSIGNED  NOT NULL DEFAULT 0,
    joined_at   BIGINT           NOT NULL,
    left_seq    BIGINT UNSIGNED  NULL,
    left_at     BIGINT           NULL,
    PRIMARY KEY (group_id, user_id),
    KEY ix_chat_group_members_user (user_id, state, group_id),
    CONSTRAINT fk_chat_group_members_group FOREIGN KEY (group_id) REFERENCES chat_groups (group_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The timeline. The primary key (group_id, seq) serves history (scanned backwards from before_seq) and sync
-- (forwards from after_seq) as one range each. type: 'text' or 'system'; a system entry has `event` and `user_ids`
-- (decimal ids separated by commas) and its content is empty or, for `renamed`, the new name.
-- client_msg_id is an identifier compared byte for byte (utf8mb4_nopad_bin, as messages.client_msg_id since 0007):
-- uk_chat_group_entries_client_msg makes (group, sender, exact client_msg_id) one entry; NULL ids never collide.
-- message_id is minted by the server like one-to-one ids; unique so that a repeated id is caught, never stored twice.
-- No foreign key to chat_groups: the batch that inserts already holds the group row's lock, and a check per row
-- would only cost.
CREATE TABLE IF NOT EXISTS chat_group_entries (
    group_id       BIGINT UNSIGNED NOT NULL,
    seq            BIGINT UNSIGNED NOT NULL,
    message_id     BIGINT UNSIGNED NOT NULL,
    sender_id      INT UNSIGNED    NOT NULL,
    type           VARCHAR(16)     NOT NULL DEFAULT 'text',
    content        TEXT            NOT NULL,
    event          VARCHAR(24)     NULL,
    user_ids       TEXT            NULL,
    client_msg_id  VARCHAR(64)     CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL,
    created_at     BIGINT          NOT NULL,
    recalled       TINYINT(1)      NOT NULL DEFAULT 0,
    recalled_at    BIGINT          NULL,
    recalled_by    INT UNSIGNED    NULL,
    PRIMARY KEY (group_id, seq),
    UNIQUE KEY uk_chat_group_entries_client_msg (group_id, sender_id, client_msg_id),
    UNIQUE KEY uk_chat_group_entries_message (message_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
