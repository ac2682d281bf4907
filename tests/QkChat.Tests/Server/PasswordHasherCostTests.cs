using System.Diagnostics;
using QkChat.Core.Accounts;
using QkChat.Server.Security;
using Xunit;

namespace QkChat.Tests.Server;

/// <summary>
/// The measurement behind the hash defaults (docs/passwords.md). Explicit, so the normal suite never pays for it:
/// <c>dotnet tests/QkChat.Tests/bin/Debug/net10.0/QkChat.Tests.dll -explicit only -showLiveOutput
/// -method QkChat.Tests.Server.PasswordHasherCostTests.Measure_hash_cost</c>. QKCHAT_HASH_SAMPLES sets the
/// samples per setting (default 20). The work is native libsodium, so JIT and AOT builds cost the same.
/// </summary>
[Collection(MeasuredAlone.Name)]
public sealed class PasswordHasherCostTests
{
    // OWASP Password Storage Cheat Sheet (Argon2id): m=19 MiB t=2, m=12 MiB t=3 and m=46 MiB t=1 are three of its
    // equivalent minimum settings; 19 MiB t=3 is the default with 50% more passes; 64 MiB t=3 is RFC 9106 §4's second
    // recommended option (which also asks for p=4; libsodium computes one lane).
    private static readonly (int MemoryKiB, int Iterations)[] Candidates =
        [(19456, 2), (12288, 3), (19456, 3), (47104, 1), (65536, 3)];

    [Fact(Explicit = true, Timeout = 60_000)]
    public async Task Measure_hash_cost()
    {
        var output = TestContext.Current.TestOutputHelper!;
        int samples = int.TryParse(Environment.GetEnvironmentVariable("QKCHAT_HASH_SAMPLES"), out int n) && n > 0 ? n : 20;
        output.WriteLine($"cores {Environment.ProcessorCount}, load {File.ReadAllText("/proc/loadavg").Trim()}, {samples} samples each");
        foreach (var (memoryKiB, iterations) in Candidates)
        {
            var hasher = new Argon2idPasswordHasher(memoryKiB, iterations);
            string encoded = hasher.Hash("warm-up: the first call loads libsodium");
            var (wall, cpu) = Sample(samples, () => hasher.Hash("correct horse battery staple"));
            var (verifyWall, _) = Sample(samples, () => hasher.Verify("correct horse battery staple", encoded));
            output.WriteLine($"m={memoryKiB} KiB t={iterations}: hash median {wall[samples / 2]:F1} ms "
                + $"(min {wall[0]:F1}, max {wall[^1]:F1}), CPU median {cpu[samples / 2]:F1} ms, verify median "
                + $"{verifyWall[samples / 2]:F1} ms => {1000 / cpu[samples / 2]:F0} hashes/s per core");
        }

        // The whole machine through the pool at the defaults: close to cores / cost when nothing else runs.
        var defaults = new Argon2idPasswordHasher();
        using var pool = new PasswordWorkPool(defaults);
        int count = samples * pool.Workers;
        var started = Stopwatch.StartNew();
        var tasks = new Task<string>[count];
        for (int i = 0; i < count; i++) Assert.True(pool.TryHash("password " + i, out tasks[i]));
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        output.WriteLine($"pool of {pool.Workers} at the defaults: {count} hashes in {started.Elapsed.TotalSeconds:F2} s "
            + $"= {count / started.Elapsed.TotalSeconds:F0} hashes/s");
        output.WriteLine($"load {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static (double[] Wall, double[] Cpu) Sample(int samples, Action work)
    {
        var wall = new double[samples];
        var cpu = new double[samples];
        var process = Process.GetCurrentProcess();
        for (int i = 0; i < samples; i++)
        {
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            long before = Stopwatch.GetTimestamp();
            work();
            wall[i] = Stopwatch.GetElapsedTime(before).TotalMilliseconds;
            process.Refresh();
            cpu[i] = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds;
        }
        Array.Sort(wall);
        Array.Sort(cpu);
        return (wall, cpu);
    }
}
