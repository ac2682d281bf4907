using MySqlConnector;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>
/// The private MariaDB and Redis that `make test` starts (scripts/stack.sh); their coordinates arrive as the same
/// QKCHAT_* variables the server reads. Missing variables fail loudly: these tests never silently skip.
/// </summary>
internal static class TestStack
{
    public static string DbHost => Required("QKCHAT_DB_HOST");
    public static int DbPort => int.Parse(Required("QKCHAT_DB_PORT"));
    public static string DbUser => Required("QKCHAT_DB_USER");
    public static string DbPasswordFile => Required("QKCHAT_DB_PASSWORD_FILE");
    public static string DbPassword => File.ReadAllText(DbPasswordFile).TrimEnd('\n', '\r');
    public static string RedisHost => Required("QKCHAT_REDIS_HOST");
    public static int RedisPort => int.Parse(Required("QKCHAT_REDIS_PORT"));

    public static string RepoRoot { get; } = FindRoot();

    /// <summary>The server binary under test: the published AOT binary when present, otherwise the built dll.</summary>
    public static (string FileName, string PrefixArgs) ServerCommand()
    {
        string? bin = Environment.GetEnvironmentVariable("QKCHAT_TEST_SERVER_BIN");
        if (bin is not null && File.Exists(bin)) return (bin, "");
        string dll = Path.Combine(AppContext.BaseDirectory, "qkchatd.dll");
        return ("dotnet", dll);
    }

    public static string ConnectionString(string database) => new MySqlConnectionStringBuilder
    {
        Server = DbHost, Port = (uint)DbPort, UserID = DbUser, Password = DbPassword, Database = database,
        CharacterSet = "utf8mb4", SslMode = MySqlSslMode.None,
    }.ConnectionString;

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name)
        ?? throw new InvalidOperationException($"{name} is not set: run the integration tests through `make test` (it starts the private stack)");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "QkChat.sln"))) return dir.FullName;
        throw new InvalidOperationException("QkChat.sln not found");
    }
}
