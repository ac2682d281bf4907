using System.Text.Json;
using Xunit;

namespace QkChat.Tests.Server;

/// <summary>
/// Runtime settings qkchatd's project file gives the runtime (RuntimeHostConfigurationOption): they reach the runtime
/// through qkchatd.runtimeconfig.json beside qkchatd.dll (the Native AOT compiler bakes the same file's properties into
/// the binary). Issue 22 point 4: the thread pool's workers must not spin (bench/RESULTS.md, docs/tuning.md).
/// </summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public void The_thread_pool_workers_do_not_spin()
    {
        // The test project references the server project, so its runtimeconfig is copied beside qkchatd.dll here.
        string path = Path.Combine(AppContext.BaseDirectory, "qkchatd.runtimeconfig.json");
        Assert.True(File.Exists(path), $"{path} is missing");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.True(properties.TryGetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", out var limit),
            "System.Threading.ThreadPool.UnfairSemaphoreSpinLimit is not set in " + path);
        Assert.Equal(0, limit.ValueKind == JsonValueKind.String ? int.Parse(limit.GetString()!) : limit.GetInt32());
    }
}
