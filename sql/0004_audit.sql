-- 0004: the security audit log (issue 11; docs/audit.md).
-- One row per security event, written in batches off the request path. `event` is the wire name of protocol.md
-- §8 (plus the operator-only `slow_consumer` and `abuse`); `outcome` is 1 ok, 0 failed; `detail` is a short reason
-- class ("wrong_password", "same_device"), never a password, token or code. There is no foreign key to users: an
-- event outlives nothing it must guard, and a write must not fail (or wait on a lock) because of a user row.
-- Indexes: (user_id, event_id) serves get_security_events and `qkchatd audit --user` newest first; (ip, event_id)
-- serves `--ip`; (at) serves `--since` (first id at or after a time) and the retention job's batched deletes.
-- Statements are idempotent (MariaDB commits DDL implicitly: a migration cut off halfway can run again).

CREATE TABLE IF NOT EXISTS audit_events (
    event_id   BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
    at         BIGINT           NOT NULL,
    event      VARCHAR(24)      NOT NULL,
    user_id    INT UNSIGNED     NULL,
    client_id  VARCHAR(64)      NULL,
    device     VARCHAR(64)      NULL,
    ip         VARCHAR(45)      NULL,
    outcome    TINYINT UNSIGNED NOT NULL,
    detail     VARCHAR(32)      NULL,
    PRIMARY KEY (event_id),
    KEY ix_audit_user (user_id, event_id),
    KEY ix_audit_ip (ip, event_id),
    KEY ix_audit_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
