using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using QkChat.Core.Accounts;
using QkChat.IntegrationTests.Chat;
using QkChat.Server.Admin;
using QkChat.Server.Security;
using Xunit;

namespace QkChat.IntegrationTests.Admin;

/// <summary>The admin listener over a ChatHarness (real engine, MariaDB, Redis), on a port the OS chooses.</summary>
internal sealed partial class AdminHarness : IAsyncDisposable
{
    private readonly PasswordWorkPool _pool = new(new Argon2idPasswordHasher(iterations: 1, memoryKiB: 8 * 1024), workers: 1);

    private AdminHarness(ChatHarness chat) => Chat = chat;

    public ChatHarness Chat { get; }
    public AdminHost Admin { get; private set; } = null!;
    public RecentWarnings Warnings { get; } = new();
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };
    public Uri BaseUri => new($"http://127.0.0.1:{Admin.EndPoint!.Port}/");

    public static async Task<AdminHarness> StartAsync(string token = "", int? redisPort = null, int maxClients = 10_000)
    {
        var harness = new AdminHarness(await ChatHarness.StartAsync(redisPort: redisPort));
        harness.Admin = await AdminHost.StartAsync(new AdminOptions { Port = 0, Token = token }, new AlertThresholds(85, 90, 90),
            harness.Chat.Server.Engine,
            harness.Chat.Features, harness._pool, harness.Chat.Data, harness.Chat.Redis, harness.Warnings, maxClients,
            [("server.port", harness.Chat.Server.Port.ToString())], NullLoggerFactory.Instance);
        return harness;
    }

    public async Task<(int Status, string Body)> GetAsync(string path, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUri, path));
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Parses Prometheus text format 0.0.4 strictly enough to catch a malformed exposition: every sample line is
    /// `name{labels} value`, every family has HELP and TYPE before its samples. Returns name{labels} -> value.
    /// </summary>
    public static Dictionary<string, double> ParsePrometheus(string text)
    {
        var samples = new Dictionary<string, double>();
        var typed = new HashSet<string>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) continue;
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.Equal(4, parts.Length);
                Assert.Contains(parts[3], new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                typed.Add(parts[2]);
                continue;
            }
            var match = SampleLine().Match(line);
            Assert.True(match.Success, "not a Prometheus sample line: " + line);
            Assert.Contains(match.Groups["name"].Value, typed);
            samples[match.Groups["name"].Value + match.Groups["labels"].Value] =
                double.Parse(match.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        return samples;
    }

    public static double Sum(Dictionary<string, double> samples, string name) =>
        samples.Where(s => s.Key == name || s.Key.StartsWith(name + "{", StringComparison.Ordinal)).Sum(s => s.Value);

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (?<value>[-+]?(\d+(\.\d*)?([eE][-+]?\d+)?|NaN|\+Inf|-Inf))$""")]
    private static partial Regex SampleLine();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Admin.DisposeAsync();
        await Chat.DisposeAsync();
        _pool.Dispose();
    }
}
