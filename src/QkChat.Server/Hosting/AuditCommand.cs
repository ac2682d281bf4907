using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using QkChat.Server.Configuration;
using QkChat.Server.Audit;
using QkChat.Server.Storage;

namespace QkChat.Server.Hosting;

/// <summary>
/// `qkchatd audit --user ID|--ip ADDR [--since TIME] [--limit N] [--json]`: an operator's look at the security events,
/// read straight from the database (no running server needed), newest first, as a table or as JSON.
/// </summary>
public static class AuditCommand
{
    /// <summary>Options that take a value; `--json` is the one flag.</summary>
    public static readonly string[] OptionNames = ["user", "ip", "since", "limit"];
    public const string JsonFlag = "json";
    public const int DefaultLimit = 50, MaxLimit = 10_000;

    public static async Task<int> RunAsync(CommandLine line, ServerOptions options, ILoggerFactory loggers)
    {
        var query = ParseQuery(line.CommandOptions);
        bool json = line.Flags.Contains(JsonFlag);
        await using var dataSource = Backends.CreateDataSource(options.Database);
        await Backends.WaitForDatabaseAsync(dataSource, options.Database, options.Lifecycle.StartupRetrySeconds, loggers.CreateLogger("Audit"), CancellationToken.None);
        var rows = await new MySqlAuditStore(dataSource).QueryAsync(query, CancellationToken.None);
        Console.Out.Write(json ? Json(rows) : Table(rows));
        return ExitCodes.Ok;
    }

    /// <summary>Checks the options; a bad one is a usage error (exit 2) that names it.</summary>
    public static AuditQuery ParseQuery(IReadOnlyDictionary<string, string> o)
    {
        uint? user = null;
        string? ip = null;
        long? since = null;
        int limit = DefaultLimit;
        if (o.TryGetValue("user", out string? u))
            user = uint.TryParse(u, NumberStyles.None, CultureInfo.InvariantCulture, out uint id) && id is >= 100_000_000 and <= 999_999_999
                ? id : throw new ConfigException($"audit: --user '{u}': expected a 9-digit user id");
        if (o.TryGetValue("ip", out string? a))
            ip = IPAddress.TryParse(a, out var address)
                ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
                : throw new ConfigException($"audit: --ip '{a}': expected an IPv4 or IPv6 address");
        if (o.TryGetValue("since", out string? s))
            since = ParseTime(s) ?? throw new ConfigException($"audit: --since '{s}': expected ISO-8601 (2025-01-31T08:00:00Z) or Unix milliseconds");
        if (o.TryGetValue("limit", out string? l))
            limit = int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= MaxLimit
                ? n : throw new ConfigException($"audit: --limit '{l}': expected an integer from 1 to {MaxLimit}");
        if (user is null && ip is null)
            throw new ConfigException("audit: name whose events to show: --user ID or --ip ADDR (or both)");
        return new AuditQuery(user, ip, since, limit);
    }

    /// <summary>Unix milliseconds, or an ISO-8601 time (UTC unless it names an offset); null when neither.</summary>
    public static long? ParseTime(string text)
    {
        if (text.Length > 0 && text.All(char.IsAsciiDigit))
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long ms) ? ms : null;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t.ToUnixTimeMilliseconds() : null;
    }

    private static string Iso(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string Table(IReadOnlyList<AuditEntry> rows)
    {
        string[] head = ["event_id", "time (UTC)", "event", "outcome", "user_id", "client_id", "device", "ip", "detail"];
        var cells = rows.Select(r => new[]
        {
            r.EventId.ToString(CultureInfo.InvariantCulture), Iso(r.At), r.Event, r.Ok ? "ok" : "failed",
            r.UserId?.ToString(CultureInfo.InvariantCulture) ?? "-", r.ClientId ?? "-", r.Device ?? "-", r.Ip ?? "-", r.Detail ?? "-",
        }).ToList();
        int[] widths = head.Select((h, i) => cells.Select(c => c[i].Length).Prepend(h.Length).Max()).ToArray();
        var sb = new StringBuilder();
        void Line(string[] c) => sb.AppendLine(string.Join("  ", c.Select((v, i) => v.PadRight(widths[i]))).TrimEnd());
        Line(head);
        foreach (var c in cells) Line(c);
        sb.AppendLine($"({rows.Count} event{(rows.Count == 1 ? "" : "s")}, newest first)");
        return sb.ToString();
    }

    public static string Json(IReadOnlyList<AuditEntry> rows)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var r in rows)
            {
                w.WriteStartObject();
                w.WriteNumber("event_id", r.EventId);
                w.WriteNumber("at", r.At);
                w.WriteString("time", Iso(r.At));
                w.WriteString("event", r.Event);
                w.WriteString("outcome", r.Ok ? "ok" : "failed");
                if (r.UserId is { } id) w.WriteNumber("user_id", id);
                else w.WriteNull("user_id");
                w.WriteString("client_id", r.ClientId);
                w.WriteString("device", r.Device);
                w.WriteString("ip", r.Ip);
                w.WriteString("detail", r.Detail);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
