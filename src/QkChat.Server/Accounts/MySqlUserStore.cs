using QkChat.Server.Storage;
using System.Security.Cryptography;
using MySqlConnector;
using QkChat.Core.Accounts;

namespace QkChat.Server.Accounts;

/// <summary>Users in MariaDB: every query parameterized; ids random, retried on collision through the primary key.</summary>
public sealed class MySqlUserStore(MySqlDataSource db) : IUserStore
{
    // protocol.md §2: user ids are 9-digit numbers.
    private const int MinUserId = 100_000_000, MaxUserIdExclusive = 1_000_000_000;

    // With 900 million ids a collision is rare until hundreds of millions of users; 10 tries make failure
    // practically impossible before that and still bound the loop.
    private const int IdAttempts = 10;

    private const string Columns = "user_id, username, email, password_hash";

    public Task<UserRecord?> FindByUsernameOrEmailAsync(string login, CancellationToken ct) =>
        // Usernames cannot contain '@', so the form picks the unique index to use.
        FindAsync(login.Contains('@') ? "email = @v" : "username = @v", login, ct);

    public Task<UserRecord?> FindByEmailAsync(string email, CancellationToken ct) => FindAsync("email = @v", email, ct);

    public Task<UserRecord?> FindByIdAsync(uint userId, CancellationToken ct) => FindAsync("user_id = @v", userId, ct);

    private Task<UserRecord?> FindAsync(string where, object value, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand($"SELECT {Columns} FROM users WHERE {where} LIMIT 1", connection);
            command.Parameters.AddWithValue("@v", value);
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct)
                ? new UserRecord(reader.GetUInt32(0), reader.GetString(1), reader.GetString(2), reader.GetString(3))
                : null;
        });

    public Task<(CreateUserOutcome Outcome, UserRecord? User)> CreateAsync(string username, string email, string passwordHash, CancellationToken ct) =>
        BackendErrors.Guard<(CreateUserOutcome, UserRecord?)>("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            for (int attempt = 0; attempt < IdAttempts; attempt++)
            {
                uint id = (uint)RandomNumberGenerator.GetInt32(MinUserId, MaxUserIdExclusive);
                await using var command = new MySqlCommand(
                    "INSERT INTO users (user_id, username, email, password_hash, created_at, updated_at) VALUES (@id, @u, @e, @h, @t, @t)",
                    connection);
                command.Parameters.AddWithValue("@id", id);
                command.Parameters.AddWithValue("@u", username);
                command.Parameters.AddWithValue("@e", email);
                command.Parameters.AddWithValue("@h", passwordHash);
                command.Parameters.AddWithValue("@t", now);
                try
                {
                    await command.ExecuteNonQueryAsync(ct);
                    return (CreateUserOutcome.Created, new UserRecord(id, username, email, passwordHash));
                }
                catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
                {
                    if (e.Message.Contains("uk_users_username", StringComparison.Ordinal)) return (CreateUserOutcome.UsernameTaken, null);
                    if (e.Message.Contains("uk_users_email", StringComparison.Ordinal)) return (CreateUserOutcome.EmailTaken, null);
                    // The random id was taken: draw another.
                }
            }
            throw new InvalidOperationException($"no free user id after {IdAttempts} attempts");
        });

    public Task UpdatePasswordHashAsync(uint userId, string passwordHash, CancellationToken ct) =>
        BackendErrors.Guard("MariaDB", async () =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand("UPDATE users SET password_hash = @h, updated_at = @t WHERE user_id = @id", connection);
            command.Parameters.AddWithValue("@h", passwordHash);
            command.Parameters.AddWithValue("@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("@id", userId);
            await command.ExecuteNonQueryAsync(ct);
        });
}
