using Microsoft.Extensions.Logging;

namespace QkChat.Server.Admin;

/// <summary>
/// A logger provider that keeps the last warnings and errors for the dashboard. Formatting happens only for those
/// levels, which are rare by design, so it costs nothing on the request path.
/// </summary>
public sealed class RecentWarnings : ILoggerProvider
{
    /// <summary>What fits the dashboard's panel without scrolling far.</summary>
    public const int Capacity = 50;

    private readonly Queue<(long At, string Level, string Category, string Message)> _entries = new();
    private readonly Lock _gate = new();

    public ILogger CreateLogger(string categoryName) => new Sink(this, categoryName);

    public List<(long At, string Level, string Category, string Message)> Snapshot()
    {
        lock (_gate) return [.. _entries];
    }

    private void Add(LogLevel level, string category, string message)
    {
        lock (_gate)
        {
            if (_entries.Count == Capacity) _entries.Dequeue();
            _entries.Enqueue((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), level.ToString(), category, message));
        }
    }

    public void Dispose()
    {
    }

    private sealed class Sink(RecentWarnings owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            string message = formatter(state, exception);
            if (exception is not null) message += " (" + exception.GetType().Name + ": " + exception.Message + ")";
            owner.Add(logLevel, category, message);
        }
    }
}
