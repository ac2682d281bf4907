using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using QkChat.Core.Audit;
using Xunit;

namespace QkChat.Tests.Core;

public sealed class AuditBatcherTests
{
    /// <summary>A sink that stores in memory and can be held shut (a slow or stalled database) or made to fail.</summary>
    private sealed class FakeSink : IAuditSink
    {
        public readonly ConcurrentQueue<AuditRow> Rows = new();
        public readonly ConcurrentQueue<int> BatchSizes = new();
        public TaskCompletionSource Gate = CreateOpen();
        public int FailuresLeft;

        public static TaskCompletionSource CreateOpen()
        {
            var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            open.SetResult();
            return open;
        }

        public async Task WriteAsync(IReadOnlyList<AuditRow> batch, CancellationToken ct)
        {
            await Gate.Task;
            if (Interlocked.Decrement(ref FailuresLeft) >= 0) throw new IOException("database down");
            BatchSizes.Enqueue(batch.Count);
            foreach (var row in batch) Rows.Enqueue(row);
        }
    }

    private sealed class Warnings : ILogger
    {
        public readonly ConcurrentQueue<string> Lines = new();
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning) Lines.Enqueue(formatter(state, exception));
        }
    }

    private static AuditRecord Login(uint user) => new(AuditEvent.Login, user, "phone", null, "127.0.0.1", true);

    [Fact(Timeout = 60_000)]
    public async Task A_full_queue_drops_and_counts_with_one_warning_per_episode_and_never_blocks()
    {
        var sink = new FakeSink { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var log = new Warnings();
        var options = new AuditOptions { QueueCapacity = 4, BatchSize = 2 };
        await using var audit = new AuditBatcher(options, sink, log);

        // The writer is stuck on the closed gate with at most one batch: the rest fill the queue, then drop.
        for (uint i = 0; i < 100; i++) audit.Record(Login(100_000_000 + i));
        Assert.InRange(audit.Dropped, 100 - 4 - 2, 100 - 4);
        Assert.Single(log.Lines, l => l.Contains("audit log full"));

        sink.Gate.SetResult();
        Assert.True(await audit.WhenIdleAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(100 - audit.Dropped, sink.Rows.Count);
        Assert.All(sink.BatchSizes, n => Assert.InRange(n, 1, 2));
        Assert.Single(log.Lines, l => l.Contains("caught up"));

        // A second flood is a second episode: one more warning, not one per event.
        sink.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        audit.Record(Login(1)); // takes the writer to the closed gate
        Assert.True(SpinWait.SpinUntil(() => audit.Queued == 0, 5000));
        for (uint i = 0; i < 50; i++) audit.Record(Login(i));
        Assert.Equal(2, log.Lines.Count(l => l.Contains("audit log full")));
        sink.Gate.SetResult();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_write_is_retried_and_loses_nothing()
    {
        var sink = new FakeSink { FailuresLeft = 2 };
        await using var audit = new AuditBatcher(new AuditOptions(), sink, new Warnings());
        for (uint i = 0; i < 10; i++) audit.Record(Login(i));
        Assert.True(await audit.WhenIdleAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(10, sink.Rows.Count);
        Assert.Equal(0, audit.Dropped);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (uint?)i), sink.Rows.Select(r => r.Record.UserId)); // queue order kept
    }

    [Fact(Timeout = 60_000)]
    public async Task Disabled_records_nothing_and_counts_nothing()
    {
        var sink = new FakeSink();
        var options = new AuditOptions { Enabled = false };
        await using var audit = new AuditBatcher(options, sink, new Warnings());
        audit.Record(Login(1));
        options.Enabled = true; // a reload turns it on
        audit.Record(Login(2));
        Assert.True(await audit.WhenIdleAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal([(uint?)2], sink.Rows.Select(r => r.Record.UserId));
        Assert.Equal(0, audit.Dropped);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_last_stored_events_are_kept_for_the_dashboard()
    {
        var sink = new FakeSink();
        await using var audit = new AuditBatcher(new AuditOptions { BatchSize = 7 }, sink, new Warnings());
        for (uint i = 0; i < AuditBatcher.RecentCapacity + 20; i++) audit.Record(Login(i));
        Assert.True(await audit.WhenIdleAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(Enumerable.Range(20, AuditBatcher.RecentCapacity).Select(i => (uint?)i), audit.Recent().Select(r => r.Record.UserId));
    }

    [Fact]
    public void Operator_only_events_are_not_among_the_names_users_see()
    {
        Assert.Equal(["login", "login_failed", "token_resume", "logout", "kicked", "password_changed", "password_reset",
            "session_revoked", "code_sent", "code_voided", "rate_limited", "blocked", "unblocked"], SecurityEventService.UserVisible);
        Assert.Equal("slow_consumer", AuditEvent.SlowConsumer.Name());
        Assert.Equal("abuse", AuditEvent.Abuse.Name());
    }
}
