-- 0001: the tables the accounts and one-to-one chat features need.
-- Conventions: utf8mb4 throughout, times are Unix milliseconds (BIGINT) as on the wire, user ids are the random
-- 9-digit ids of the protocol, message and request ids stay below 2^53. Statements are idempotent
-- (IF NOT EXISTS) because MariaDB commits DDL implicitly: a migration cut off halfway can simply run again.

CREATE TABLE IF NOT EXISTS users (
    user_id        INT UNSIGNED    NOT NULL,
    username       VARCHAR(32)     NOT NULL,
    email          VARCHAR(254)    NOT NULL,
    password_hash  VARCHAR(255)    NOT NULL,
    created_at     BIGINT          NOT NULL,
    updated_at     BIGINT          NOT NULL,
    last_seen_at   BIGINT          NULL,
    PRIMARY KEY (user_id),
    -- utf8mb4_unicode_ci compares case-insensitively: one row per username and per e-mail ignoring case.
    UNIQUE KEY uk_users_username (username),
    UNIQUE KEY uk_users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per (user, device). Only the SHA-256 of the token is kept; revocation sets revoked_at.
CREATE TABLE IF NOT EXISTS sessions (
    session_id      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id         INT UNSIGNED    NOT NULL,
    client_id       VARCHAR(64)     NOT NULL,
    device          VARCHAR(64)     NULL,
    token_hash      BINARY(32)      NOT NULL,
    created_at      BIGINT          NOT NULL,
    last_active_at  BIGINT          NOT NULL,
    expires_at      BIGINT          NOT NULL,
    last_ip         VARCHAR(45)     NULL,
    revoked_at      BIGINT          NULL,
    PRIMARY KEY (session_id),
    UNIQUE KEY uk_sessions_token (token_hash),
    UNIQUE KEY uk_sessions_device (user_id, client_id),
    KEY ix_sessions_expiry (expires_at),
    CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- status: 0 pending, 1 accepted, 2 rejected, 3 cancelled. ignored_by_target hides a pending request from the
-- target only. pending_pair makes "one pending request per direction" a unique key instead of a race.
CREATE TABLE IF NOT EXISTS friend_requests (
    friend_request_id  BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
    from_user_id       INT UNSIGNED     NOT NULL,
    to_user_id         INT UNSIGNED     NOT NULL,
    message            VARCHAR(200)     NOT NULL DEFAULT '',
    status             TINYINT UNSIGNED NOT NULL DEFAULT 0,
    ignored_by_target  TINYINT(1)       NOT NULL DEFAULT 0,
    target_notified    TINYINT(1)       NOT NULL DEFAULT 0,
    requester_notified TINYINT(1)       NOT NULL DEFAULT 0,
    created_at         BIGINT           NOT NULL,
    responded_at       BIGINT           NULL,
    pending_pair       VARCHAR(24) AS (IF(status = 0, CONCAT(from_user_id, ':', to_user_id), NULL)) PERSISTENT,
    PRIMARY KEY (friend_request_id),
    UNIQUE KEY uk_friend_requests_pending (pending_pair),
    KEY ix_friend_requests_to (to_user_id, status),
    KEY ix_friend_requests_from (from_user_id, status),
    CONSTRAINT fk_friend_requests_from FOREIGN KEY (from_user_id) REFERENCES users (user_id) ON DELETE CASCADE,
    CONSTRAINT fk_friend_requests_to FOREIGN KEY (to_user_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Both directions are stored, so "my friends" is one range scan of the primary key.
CREATE TABLE IF NOT EXISTS friendships (
    user_id     INT UNSIGNED NOT NULL,
    friend_id   INT UNSIGNED NOT NULL,
    created_at  BIGINT       NOT NULL,
    PRIMARY KEY (user_id, friend_id),
    KEY ix_friendships_friend (friend_id),
    CONSTRAINT fk_friendships_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE,
    CONSTRAINT fk_friendships_friend FOREIGN KEY (friend_id) REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- message_id is assigned by the server (time-ordered, below 2^53) before the batched insert.
-- (user_lo, user_hi) names the conversation whatever the direction: history is one index range.
-- status: 1 sent, 2 delivered, 3 read.
CREATE TABLE IF NOT EXISTS messages (
    message_id     BIGINT UNSIGNED  NOT NULL,
    sender_id      INT UNSIGNED     NOT NULL,
    receiver_id    INT UNSIGNED     NOT NULL,
    user_lo        INT UNSIGNED     NOT NULL,
    user_hi        INT UNSIGNED     NOT NULL,
    client_msg_id  VARCHAR(64)      NULL,
    type           VARCHAR(16)      NOT NULL DEFAULT 'text',
    content        TEXT             NOT NULL,
    created_at     BIGINT           NOT NULL,
    status         TINYINT UNSIGNED NOT NULL DEFAULT 1,
    recalled       TINYINT(1)       NOT NULL DEFAULT 0,
    recalled_at    BIGINT           NULL,
    PRIMARY KEY (message_id),
    -- Idempotent retries: one row per (sender, client_msg_id); NULL ids never collide.
    UNIQUE KEY uk_messages_client_msg (sender_id, client_msg_id),
    KEY ix_messages_conversation (user_lo, user_hi, message_id),
    KEY ix_messages_receiver (receiver_id, message_id),
    KEY ix_messages_sender (sender_id, message_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A message waits here for its receiver until a device acknowledges it; the login push reads it in id order.
CREATE TABLE IF NOT EXISTS offline_deliveries (
    user_id     INT UNSIGNED    NOT NULL,
    message_id  BIGINT UNSIGNED NOT NULL,
    created_at  BIGINT          NOT NULL,
    PRIMARY KEY (user_id, message_id),
    CONSTRAINT fk_offline_deliveries_message FOREIGN KEY (message_id) REFERENCES messages (message_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
