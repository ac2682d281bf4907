using Microsoft.Extensions.Logging;

namespace QkChat.Server.Logging;

/// <summary>
/// The minimum level, read by the logger filter on every IsEnabled check, so a SIGHUP reload changes it for loggers
/// that already exist. Disabled levels cost one volatile read and no allocation.
/// </summary>
public sealed class LogLevelSwitch(LogLevel initial)
{
    private volatile int _level = (int)initial;

    public LogLevel Level
    {
        get => (LogLevel)_level;
        set => _level = (int)value;
    }

    public static LogLevel Parse(string name) => name switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "information" => LogLevel.Information,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" => LogLevel.Critical,
        "none" => LogLevel.None,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown log level"),
    };
}
