using System.Globalization;
using System.Text.Json;
using QkChat.LoadGen.Results;

namespace QkChat.LoadGen.Workers;

/// <summary>
/// The line protocol between the coordinator and a worker. Worker to coordinator on stdout: "ready", then
/// "progress {json}" about twice a second, then "result {json}". Coordinator to worker on stdin: "start UNIX_MS".
/// The worker's stderr is the coordinator's, so a worker's warnings reach the terminal unchanged.
/// </summary>
public static class WorkerProtocol
{
    public const string Ready = "ready";
    public const string Start = "start ";
    public const string Progress = "progress ";
    public const string Result = "result ";

    /// <summary>How often a worker reports progress: twice per progress-line refresh.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    public static string StartLine(long startUnixMs) => Start + startUnixMs.ToString(CultureInfo.InvariantCulture);

    public static bool TryParseStart(string? line, out long startUnixMs)
    {
        startUnixMs = 0;
        return line is not null && line.StartsWith(Start, StringComparison.Ordinal)
            && long.TryParse(line.AsSpan(Start.Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out startUnixMs);
    }

    public static string ProgressLine(ProgressSnapshot snapshot) =>
        Progress + JsonSerializer.Serialize(snapshot, LoadGenJsonContext.Default.ProgressSnapshot);

    public static string ResultLine(RunResult result) =>
        Result + JsonSerializer.Serialize(result, LoadGenJsonContext.Default.RunResult);

    public static ProgressSnapshot? ParseProgress(string line) =>
        JsonSerializer.Deserialize(line.AsSpan(Progress.Length), LoadGenJsonContext.Default.ProgressSnapshot);

    public static RunResult? ParseResult(string line) =>
        JsonSerializer.Deserialize(line.AsSpan(Result.Length), LoadGenJsonContext.Default.RunResult);
}
