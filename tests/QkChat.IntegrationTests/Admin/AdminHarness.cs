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

    private AdminHarness(ChatHarness chat, MeterCollector dbPools)
    {
        Chat = chat;
        DbPools = dbPools;
    }

    public ChatHarness Chat { get; }

    /// <summary>MySqlConnector's pool metrics, listened to from before the harness's pools exist (as the server does).</summary>
    public MeterCollector DbPools { get; }
    public AdminHost Admin { get; private set; } = null!;
    public RecentWarnings Warnings { get; } = new();
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };
    public Uri BaseUri => new($"http://127.0.0.1:{Admin.EndPoint!.Port}/");

    /// <param name="files">File transfer settings (a test of the file counters gives its own directory).</param>
    public static async Task<AdminHarness> StartAsync(string token = "", int? redisPort = null, int maxClients = 10_000,
        QkChat.Core.Files.FileTransferOptions? files = null)
    {
        var dbPools = new MeterCollector();
        var harness = new AdminHarness(await ChatHarness.StartAsync(redisPort: redisPort, files: files), dbPools);
        harness.Admin = await AdminHost.StartAsync(new AdminOptions { Port = 0, Token = token }, new AlertThresholds(85, 90, 90),
            harness.Chat.Server.Engine,
            harness.Chat.Features, harness._pool, harness.Chat.Data, harness.Chat.Redis, harness.Warnings, maxClients,
            [("server.port", harness.Chat.Server.Port.ToString())], "test", NullLoggerFactory.Instance,
            requests: harness.Chat.Server.Dispatcher.Requests, dbPools: dbPools);
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
    /// `name{labels} value`, every family has HELP and TYPE (once) before its samples, no sample repeats, and a
    /// histogram family has only `_bucket` (with `le`), `_sum` and `_count` samples whose buckets are cumulative, end
    /// in `le="+Inf"` and equal `_count`. Returns name{labels} -> value.
    /// </summary>
    public static Dictionary<string, double> ParsePrometheus(string text)
    {
        var samples = new Dictionary<string, double>();
        var types = new Dictionary<string, string>();
        // histogram family -> labels without le -> (le, cumulative count) in order of appearance
        var buckets = new Dictionary<string, Dictionary<string, List<(double Le, double Count)>>>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) continue;
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.Equal(4, parts.Length);
                Assert.Contains(parts[3], new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                Assert.True(types.TryAdd(parts[2], parts[3]), "family typed twice: " + parts[2]);
                continue;
            }
            var match = SampleLine().Match(line);
            Assert.True(match.Success, "not a Prometheus sample line: " + line);
            string name = match.Groups["name"].Value, labels = match.Groups["labels"].Value;
            double value = double.Parse(match.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(samples.TryAdd(name + labels, value), "sample repeated: " + name + labels);
            if (types.TryGetValue(name, out string? type))
            {
                Assert.True(type != "histogram", "a histogram family has only _bucket, _sum and _count samples: " + line);
                continue;
            }
            string? family = HistogramFamilyOf(name, types);
            Assert.True(family is not null, "sample of an untyped family: " + line);
            if (!name.EndsWith("_bucket", StringComparison.Ordinal)) continue;
            var pairs = Labels(labels);
            int le = pairs.FindIndex(p => p.Key == "le");
            Assert.True(le >= 0, "a histogram bucket without le: " + line);
            double bound = pairs[le].Value == "+Inf" ? double.PositiveInfinity
                : double.Parse(pairs[le].Value, System.Globalization.CultureInfo.InvariantCulture);
            pairs.RemoveAt(le);
            string series = string.Join(",", pairs.Select(p => $"{p.Key}=\"{p.Value}\""));
            var perFamily = buckets.TryGetValue(family!, out var f) ? f : buckets[family!] = [];
            (perFamily.TryGetValue(series, out var list) ? list : perFamily[series] = []).Add((bound, value));
        }
        foreach (var (family, series) in buckets)
        {
            foreach (var (labels, list) in series)
            {
                for (int i = 1; i < list.Count; i++)
                {
                    Assert.True(list[i].Le > list[i - 1].Le, $"{family}{{{labels}}}: le not increasing");
                    Assert.True(list[i].Count >= list[i - 1].Count, $"{family}{{{labels}}}: buckets not cumulative");
                }
                Assert.True(double.IsPositiveInfinity(list[^1].Le), $"{family}{{{labels}}}: no +Inf bucket");
                string braces = labels.Length > 0 ? "{" + labels + "}" : "";
                Assert.Equal(list[^1].Count, samples[family + "_count" + braces]);
                Assert.True(samples.ContainsKey(family + "_sum" + braces), $"{family}{{{labels}}}: no _sum");
            }
        }
        return samples;
    }

    private static string? HistogramFamilyOf(string name, Dictionary<string, string> types)
    {
        foreach (string suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (!name.EndsWith(suffix, StringComparison.Ordinal)) continue;
            string family = name[..^suffix.Length];
            if (types.TryGetValue(family, out string? type) && type == "histogram") return family;
        }
        return null;
    }

    private static List<KeyValuePair<string, string>> Labels(string labels) =>
        LabelPair().Matches(labels).Select(m => new KeyValuePair<string, string>(m.Groups[1].Value, m.Groups[2].Value)).ToList();

    /// <summary>The value of the one sample of <paramref name="name"/> whose labels contain every fragment given (label="value").</summary>
    public static double Single(Dictionary<string, double> samples, string name, params string[] labels) =>
        samples.Single(s => s.Key.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(l => s.Key.Contains(l, StringComparison.Ordinal))).Value;

    public static double Sum(Dictionary<string, double> samples, string name) =>
        samples.Where(s => s.Key == name || s.Key.StartsWith(name + "{", StringComparison.Ordinal)).Sum(s => s.Value);

    // name="value" (escapes kept); the closing quote is looked at, not taken, so the raw string can end here.
    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)(?=")""")]
    private static partial Regex LabelPair();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (?<value>[-+]?(\d+(\.\d*)?([eE][-+]?\d+)?|NaN|\+Inf|-Inf))$""")]
    private static partial Regex SampleLine();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Admin.DisposeAsync();
        await Chat.DisposeAsync();
        _pool.Dispose();
        DbPools.Dispose();
    }
}
