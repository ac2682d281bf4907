using System.Diagnostics;
using MySqlConnector;

namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>
/// A MariaDB server of the test's own (a temp data directory and port), for tests that must stop the database and
/// start it again; the stack's shared server is never touched. Uses the binaries scripts/stack.sh installed.
/// </summary>
internal sealed class PrivateMariaDb : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkchat-mariadb-").FullName;
    private Process? _server;

    public int Port { get; } = ServerProcess.FreePort();

    private string Socket => Path.Combine(_dir, "mysql.sock");

    public string ConnectionString => new MySqlConnectionStringBuilder
    {
        Server = "127.0.0.1", Port = (uint)Port, UserID = "qkchat", Password = "test-only-password", Database = "qkchat",
        SslMode = MySqlSslMode.None, ConnectionTimeout = 2,
    }.ConnectionString;

    /// <summary>A data source on this server's database with the schema applied (the caller disposes it).</summary>
    public async Task<MySqlDataSource> OpenMigratedAsync()
    {
        var data = new MySqlDataSource(ConnectionString);
        await new QkChat.Server.Storage.Migrator(data, QkChat.Server.Storage.Migration.Embedded(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).MigrateAsync(CancellationToken.None);
        return data;
    }

    public static async Task<PrivateMariaDb> StartAsync()
    {
        var db = new PrivateMariaDb();
        try
        {
            await Run("mariadb-install-db", "--no-defaults", $"--datadir={db._dir}/data", "--user=root",
                "--auth-root-authentication-method=socket", "--skip-test-db");
            await db.StartServerAsync();
            await Run("mariadb", "--no-defaults", $"--socket={db.Socket}", "-uroot", "-e",
                "CREATE DATABASE qkchat CHARACTER SET utf8mb4; CREATE USER 'qkchat'@'127.0.0.1' IDENTIFIED BY 'test-only-password';" +
                " CREATE USER 'qkchat'@'localhost' IDENTIFIED BY 'test-only-password'; GRANT ALL ON qkchat.* TO 'qkchat'@'127.0.0.1';" +
                " GRANT ALL ON qkchat.* TO 'qkchat'@'localhost';");
            return db;
        }
        catch
        {
            await db.DisposeAsync(); // never leave a mariadbd of ours running behind a failed start
            throw;
        }
    }

    public async Task StartServerAsync()
    {
        var info = new ProcessStartInfo(Path.Combine(Sbin, "mariadbd"))
        {
            ArgumentList =
            {
                "--no-defaults", $"--datadir={_dir}/data", "--user=root", $"--socket={Socket}", $"--port={Port}",
                "--bind-address=127.0.0.1", $"--pid-file={_dir}/mariadbd.pid", $"--log-error={_dir}/err.log",
                "--skip-log-bin", "--innodb-buffer-pool-size=16M",
            },
            UseShellExecute = false,
            // Start-up warnings (file limits) go to stderr before --log-error takes over: keep them out of test output.
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        _server = ChildProcesses.Track(Process.Start(info)!);
        _server.BeginErrorReadLine();
        _server.BeginOutputReadLine();
        // mariadbd opens its port only once it is ready for connections.
        for (int i = 0; i < 200; i++)
        {
            try
            {
                using var probe = await RawClient.ConnectAsync(Port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException("private mariadbd did not start: " + File.ReadAllText(Path.Combine(_dir, "err.log")));
    }

    public async Task KillAsync()
    {
        if (_server is null || _server.HasExited) return;
        _server.Kill();
        await _server.WaitForExitAsync();
    }

    private static string Sbin => File.Exists("/usr/sbin/mariadbd") ? "/usr/sbin" : "/usr/bin";

    private static async Task Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in args) info.ArgumentList.Add(a);
        using var p = ChildProcesses.Track(Process.Start(info)!);
        string error = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} failed: {error}");
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _server?.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
