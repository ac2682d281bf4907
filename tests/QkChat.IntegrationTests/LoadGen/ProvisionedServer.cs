using QkChat.IntegrationTests.Infrastructure;
using Xunit;

namespace QkChat.IntegrationTests.LoadGen;

/// <summary>
/// The load generator scenario tests' preamble: the throwaway database migrated, accounts made by `qkchatd
/// provision-users` (docs/loadgen.md), and qkchatd (the real binary) started on it and ready.
/// </summary>
internal sealed class ProvisionedServer : IAsyncDisposable
{
    /// <summary>Each step (migrate, provision, the server's start) on a loaded 2-core box.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private ProvisionedServer(ExternalProcess process, int port, string provisioned)
    {
        Process = process;
        Port = port;
        Provisioned = provisioned;
    }

    public ExternalProcess Process { get; }

    /// <summary>The chat port.</summary>
    public int Port { get; }

    /// <summary>What provision-users printed.</summary>
    public string Provisioned { get; }

    /// <summary>
    /// bench/loopback.sh's cheap password hash for load accounts (for provisioning and server alike, or the server would
    /// rehash at login): ten default-cost logins can outlast a scenario's ramp on a loaded 2-core box.
    /// </summary>
    public static void CheapPasswordHash(Dictionary<string, string> env)
    {
        env["QKCHAT_PASSWORD_MEMORY_KIB"] = "1024";
        env["QKCHAT_PASSWORD_ITERATIONS"] = "1";
    }

    /// <param name="provision">provision-users' arguments after the command (--count, --prefix, --password, --friends).</param>
    /// <param name="environment">Changes to the stack environment, for provisioning and server alike.</param>
    public static async Task<ProvisionedServer> StartAsync(TempDatabase db, string[] provision, Action<Dictionary<string, string>>? environment = null)
    {
        int port = ServerProcess.FreePort();
        var env = ServerProcess.StackEnvironment(db.Name, port);
        environment?.Invoke(env);
        await using (var migrate = ServerProcess.Start(env, "migrate"))
            Assert.Equal(0, await migrate.WaitForExitAsync(Patience));
        string provisioned;
        await using (var provisioning = ServerProcess.Start(env, ["provision-users", .. provision]))
        {
            Assert.Equal(0, await provisioning.WaitForExitAsync(Patience));
            provisioned = provisioning.Output;
        }
        var server = ServerProcess.Start(env);
        try
        {
            await server.WaitForOutputAsync("ready: serving chat", Patience);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return new ProvisionedServer(server, port, provisioned);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
