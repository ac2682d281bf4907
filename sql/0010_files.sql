-- 0010: file transfer (issue 21, protocol.md §10). Bytes live in the file store (a content-addressed directory,
-- files.dir; docs/files.md); MariaDB holds what they are, who may see them and what is still being uploaded.
-- Times are Unix milliseconds. Each statement is guarded (IF NOT EXISTS) so a re-run after a partial failure
-- completes what is missing (docs/storage.md, "Migrations and transactions").

-- One row per stored content: the same bytes (sha256 and size) are stored once, whoever uploaded them.
-- sha256 is the raw 32-byte digest. A blob row exists only after its bytes are durable in the store.
CREATE TABLE IF NOT EXISTS file_blobs (
    sha256      BINARY(32)       NOT NULL,
    size        BIGINT UNSIGNED  NOT NULL,
    stored_at   BIGINT           NOT NULL,
    PRIMARY KEY (sha256, size)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per file a user holds (what file_id names): its name and mime as that user gave them, over a blob. Two
-- users who upload the same bytes get two file ids over one blob. referenced_at is set when the first message or
-- group entry carrying the file is stored; a file still unreferenced 24 h after created_at is deleted by the
-- sweeper (ix_files_unreferenced serves it), and a blob no file row points at goes with it.
-- uploaded is 1 when the row came from the user's own upload (its bytes crossed the network and count against the
-- daily byte budget), 0 when file_upload_init found the content stored already.
-- ix_files_owner serves the reuse of a user's own file at file_upload_init and the daily byte budget.
CREATE TABLE IF NOT EXISTS files (
    file_id        BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
    uploader_id    INT UNSIGNED     NOT NULL,
    sha256         BINARY(32)       NOT NULL,
    size           BIGINT UNSIGNED  NOT NULL,
    name           VARCHAR(255)     NOT NULL,
    mime           VARCHAR(127)     NOT NULL,
    created_at     BIGINT           NOT NULL,
    referenced_at  BIGINT           NULL,
    uploaded       TINYINT(1)       NOT NULL DEFAULT 0,
    PRIMARY KEY (file_id),
    KEY ix_files_owner (uploader_id, sha256, size),
    KEY ix_files_blob (sha256, size),
    KEY ix_files_unreferenced (referenced_at, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Unfinished uploads. upload_offset is the number of bytes made durable (fsynced) in the store's staging area:
-- it moves only after the store says the bytes are on disk, so after a crash the store holds at least this much
-- and is trimmed back to it (never beyond). One upload per (user, sha256, size): file_upload_init of the same file
-- by the same user resumes it. ix_file_uploads_expiry serves the sweeper; created_at serves the daily byte budget.
CREATE TABLE IF NOT EXISTS file_uploads (
    upload_id      BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
    user_id        INT UNSIGNED     NOT NULL,
    sha256         BINARY(32)       NOT NULL,
    size           BIGINT UNSIGNED  NOT NULL,
    name           VARCHAR(255)     NOT NULL,
    mime           VARCHAR(127)     NOT NULL,
    upload_offset  BIGINT UNSIGNED  NOT NULL DEFAULT 0,
    created_at     BIGINT           NOT NULL,
    expires_at     BIGINT           NOT NULL,
    PRIMARY KEY (upload_id),
    UNIQUE KEY uk_file_uploads_user_content (user_id, sha256, size),
    KEY ix_file_uploads_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A message or group entry carries at most one file: its file_id (type 'file'); the file's name, size, mime and
-- sha256 are read from `files` with the message. Who may fetch a file: its uploader, and whoever can see a message
-- or group entry that carries it (ix_*_file finds those).
ALTER TABLE messages ADD COLUMN IF NOT EXISTS file_id BIGINT UNSIGNED NULL;
CREATE INDEX IF NOT EXISTS ix_messages_file ON messages (file_id);
ALTER TABLE chat_group_entries ADD COLUMN IF NOT EXISTS file_id BIGINT UNSIGNED NULL;
CREATE INDEX IF NOT EXISTS ix_chat_group_entries_file ON chat_group_entries (file_id);
