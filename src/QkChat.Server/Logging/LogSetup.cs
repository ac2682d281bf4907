using Microsoft.Extensions.Logging;
using ZLogger;
using ZLogger.Providers;

namespace QkChat.Server.Logging;

/// <summary>
/// Builds the logger factory: console (journald-friendly) and rolling files, both under one level switch.
/// Loggers are created with short area names ("Migrator", "Transport") so a line needs no category trimming.
/// </summary>
public static class LogSetup
{
    public static ILoggerFactory Create(LogOptions options, LogLevelSwitch levelSwitch)
    {
        // systemd sets JOURNAL_STREAM when stdout goes to the journal: it stamps the time itself and reads the
        // syslog "<N>" prefix as the priority, so the console line carries no timestamp there.
        bool journald = Environment.GetEnvironmentVariable("JOURNAL_STREAM") is not null;

        return LoggerFactory.Create(builder =>
        {
            builder.ClearProviders();
            builder.SetMinimumLevel(LogLevel.Trace);
            builder.AddFilter((_, _, level) => level >= levelSwitch.Level);
            builder.AddZLoggerConsole(console =>
            {
                console.LogToStandardErrorThreshold = LogLevel.None;
                console.UsePlainTextFormatter(f =>
                {
                    if (journald)
                        f.SetPrefixFormatter($"<{0}>{1}: ", (in MessageTemplate t, in LogInfo i) => t.Format(SyslogPriority(i.LogLevel), i.Category.Name));
                    else
                        f.SetPrefixFormatter($"{0:yyyy-MM-dd HH:mm:ss.fff} {1:short} {2}: ", (in MessageTemplate t, in LogInfo i) => t.Format(i.Timestamp.Utc, i.LogLevel, i.Category.Name));
                    f.SetExceptionFormatter((writer, ex) => Utf8StringInterpolation.Utf8String.Format(writer, $"{ex}"));
                });
            });
            if (options.ToFile)
            {
                Directory.CreateDirectory(options.Dir);
                string dir = options.Dir;
                builder.AddZLoggerRollingFile(file =>
                {
                    file.FilePathSelector = (time, seq) => Path.Combine(dir, $"server-{time.UtcDateTime:yyyy-MM-dd}_{seq:000}.log");
                    file.RollingInterval = RollingInterval.Day;
                    file.RollingSizeKB = options.FileMaxMegabytes * 1024;
                    file.UsePlainTextFormatter(f =>
                    {
                        f.SetPrefixFormatter($"{0:yyyy-MM-dd HH:mm:ss.fff} {1:short} {2}: ", (in MessageTemplate t, in LogInfo i) => t.Format(i.Timestamp.Utc, i.LogLevel, i.Category.Name));
                        f.SetExceptionFormatter((writer, ex) => Utf8StringInterpolation.Utf8String.Format(writer, $"{ex}"));
                    });
                });
            }
        });
    }

    private static int SyslogPriority(LogLevel level) => level switch
    {
        LogLevel.Critical => 2,
        LogLevel.Error => 3,
        LogLevel.Warning => 4,
        LogLevel.Information => 6,
        _ => 7,
    };
}
