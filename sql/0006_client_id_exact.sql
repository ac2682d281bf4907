-- 0006: a device's client_id is compared exactly, byte for byte, everywhere (issue 16). Under the table's
-- utf8mb4_unicode_ci, "Dev-x", "dev-x", "DEV-x " and "Dév-x" were one row of uk_sessions_device while this node's
-- live sessions and the token cache told them apart, so a revocation found only the stored spelling and another
-- spelling's connection survived it. utf8mb4_nopad_bin compares the bytes, including trailing spaces (plain
-- utf8mb4_bin is PAD SPACE in MariaDB and would still merge "DEV-x" with "DEV-x ").
--
-- Existing rows stay as they are: rows that were distinct stay distinct under a stricter comparison, so the unique
-- key cannot fail. MODIFY to the same definition is a no-op, so a re-run after a partial failure is safe.

ALTER TABLE sessions MODIFY COLUMN client_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL;
