using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>
/// qkchatd as a child process (the published AOT binary when available, else the built dll), with its output
/// captured by <see cref="ExternalProcess"/> so tests can wait for "ready" and read what it logged.
/// </summary>
internal static partial class ServerProcess
{
    public const int SIGHUP = 1, SIGINT = 2, SIGTERM = 15;

    /// <summary>Environment for a server on the private stack, in database <paramref name="database"/>, logging to the console only.</summary>
    public static Dictionary<string, string> StackEnvironment(string database, int port) => new()
    {
        ["QKCHAT_DB_HOST"] = TestStack.DbHost,
        ["QKCHAT_DB_PORT"] = TestStack.DbPort.ToString(),
        ["QKCHAT_DB_USER"] = TestStack.DbUser,
        ["QKCHAT_DB_PASSWORD_FILE"] = TestStack.DbPasswordFile,
        ["QKCHAT_DB_NAME"] = database,
        ["QKCHAT_REDIS_HOST"] = TestStack.RedisHost,
        ["QKCHAT_REDIS_PORT"] = TestStack.RedisPort.ToString(),
        ["QKCHAT_PORT"] = port.ToString(),
        ["QKCHAT_LOG_TO_FILE"] = "false",
        // Tests run servers side by side: each admin listener takes a free port instead of 9100.
        ["QKCHAT_ADMIN_PORT"] = "0",
        // ... and each web listener (http.*, default 8081) too.
        ["QKCHAT_HTTP_PORT"] = "0",
        // An empty config file: the test sees the built-in defaults, not the checkout's config/server.json.
        ["QKCHAT_CONFIG_PATH"] = EmptyConfig.Value,
    };

    /// <summary>
    /// <see cref="StackEnvironment"/> for a server that migrates its database itself and takes file uploads: the web
    /// listener on <paramref name="httpPort"/> (what file URLs point at), the store in <paramref name="filesDir"/> with
    /// <paramref name="chunkBytes"/> chunks, and a fixed URL secret, so that upload URLs and tokens handed out before a
    /// restart still verify after it (a server without files.secret draws one at each start).
    /// </summary>
    public static Dictionary<string, string> FilesEnvironment(string database, int port, int httpPort, string filesDir, int chunkBytes)
    {
        var env = StackEnvironment(database, port);
        env["QKCHAT_DB_AUTO_MIGRATE"] = "true";
        env["QKCHAT_HTTP_PORT"] = httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["QKCHAT_FILES_DIR"] = filesDir;
        env["QKCHAT_FILES_CHUNK_BYTES"] = chunkBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["QKCHAT_FILES_SECRET"] = "test files secret";
        env["QKCHAT_FILES_PUBLIC_URL"] = $"http://127.0.0.1:{httpPort}";
        return env;
    }

    private static readonly Lazy<string> EmptyConfig = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), "qkchat-test-empty.json");
        File.WriteAllText(path, "{}");
        return path;
    });

    /// <summary>Starts qkchatd with only <paramref name="environment"/> (the runner's own QKCHAT_* variables are removed).</summary>
    public static ExternalProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var (fileName, prefix) = TestStack.ServerCommand();
        var arguments = prefix.Length > 0 ? args.Prepend(prefix) : args;
        return ExternalProcess.Start(fileName, arguments, environment);
    }

    /// <summary>The admin listener's base address, from <paramref name="server"/>'s start-up log.</summary>
    public static Uri AdminAddress(ExternalProcess server) => new(AdminLine().Match(server.Output).Groups[1].Value);

    /// <summary>A metric from <paramref name="server"/>'s /metrics, or null when it is not listed.</summary>
    public static async Task<double?> MetricAsync(ExternalProcess server, string name)
    {
        using var admin = new HttpClient { BaseAddress = AdminAddress(server) };
        string text = await admin.GetStringAsync("metrics");
        var line = text.Split('\n').SingleOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"admin listener on (http://127\.0\.0\.1:\d+/)")]
    private static partial Regex AdminLine();

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
