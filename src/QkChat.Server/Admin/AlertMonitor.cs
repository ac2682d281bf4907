using Microsoft.Extensions.Logging;

namespace QkChat.Server.Admin;

/// <summary>
/// Alert thresholds checked on every status sample. Crossing one logs a warning once per episode (not once a
/// second), and the dashboard lists what is active; falling back below logs the end of the episode.
/// </summary>
public sealed partial class AlertMonitor
{
    private readonly List<Rule> _rules = [];
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    public AlertMonitor(AlertThresholds thresholds, int maxClients, ILogger logger)
    {
        _logger = logger;
        _rules.Add(new Rule("cpu", "CPU use", s => s.CpuPercent, () => thresholds.CpuPercent, "%"));
        _rules.Add(new Rule("memory", "memory use", s => s.MemoryPercent, () => thresholds.MemoryPercent, "%"));
        _rules.Add(new Rule("connections", "connections of server.max_clients", s => s.Connections * 100.0 / Math.Max(1, maxClients),
            () => thresholds.ConnectionsPercent, "%"));
    }

    /// <summary>One threshold; it reads its limit at every check, so a configuration reload moves it.</summary>
    public sealed class Rule(string key, string what, Func<StatusSample, double> value, Func<double> threshold, string unit)
    {
        public string Key { get; } = key;
        public string What { get; } = what;
        public Func<StatusSample, double> Value { get; } = value;
        public double Threshold => threshold();
        public string Unit { get; } = unit;
        public bool Active { get; set; }
        public double Last { get; set; }
        public long Since { get; set; }
    }

    public void Check(StatusSample sample)
    {
        lock (_gate)
        {
            foreach (var rule in _rules)
            {
                double value = rule.Value(sample);
                rule.Last = value;
                bool over = value > rule.Threshold;
                if (over && !rule.Active)
                {
                    rule.Active = true;
                    rule.Since = sample.At;
                    LogAlert(_logger, rule.What, value, rule.Unit, rule.Threshold);
                }
                else if (!over && rule.Active)
                {
                    rule.Active = false;
                    LogCleared(_logger, rule.What, value, rule.Unit, rule.Threshold);
                }
            }
        }
    }

    /// <summary>The alerts active now: (key, description, value, threshold, unit, since).</summary>
    public List<(string Key, string What, double Value, double Threshold, string Unit, long Since)> Active()
    {
        lock (_gate) return _rules.Where(r => r.Active).Select(r => (r.Key, r.What, r.Last, r.Threshold, r.Unit, r.Since)).ToList();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "alert: {What} at {Value:0.#}{Unit}, above the threshold of {Threshold}{Unit}")]
    private static partial void LogAlert(ILogger logger, string what, double value, string unit, double threshold);

    [LoggerMessage(Level = LogLevel.Information, Message = "alert over: {What} back to {Value:0.#}{Unit} (threshold {Threshold}{Unit})")]
    private static partial void LogCleared(ILogger logger, string what, double value, string unit, double threshold);
}

/// <summary>The alert limits, in percent; a configuration reload writes them (issue 11), the monitor reads them each second.</summary>
public sealed class AlertThresholds
{
    private int _cpu, _memory, _connections;

    public AlertThresholds(int cpuPercent, int memoryPercent, int connectionsPercent)
    {
        _cpu = cpuPercent;
        _memory = memoryPercent;
        _connections = connectionsPercent;
    }

    public int CpuPercent { get => Volatile.Read(ref _cpu); set => Volatile.Write(ref _cpu, value); }
    public int MemoryPercent { get => Volatile.Read(ref _memory); set => Volatile.Write(ref _memory, value); }
    public int ConnectionsPercent { get => Volatile.Read(ref _connections); set => Volatile.Write(ref _connections, value); }
}
