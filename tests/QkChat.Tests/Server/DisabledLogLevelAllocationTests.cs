using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using QkChat.Core.Accounts;
using QkChat.Core.Dispatch;
using QkChat.Core.Messaging;
using QkChat.Protocol;
using QkChat.Server.Configuration;
using QkChat.Server.Logging;
using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Server;

/// <summary>
/// "No per-message allocation from disabled log levels", with the logger factory qkchatd really runs (LogSetup: ZLogger
/// console and rolling file, behind the SIGHUP level switch) at Warning: the source-generated Debug and Information log
/// methods of the per-frame and per-connection paths allocate nothing. HeartbeatAllocationTests uses NullLogger; this is
/// the same budget with the real filter chain. The private methods are reached through [UnsafeAccessor], which calls
/// them directly (no reflection, no boxing), so the bytes counted are the log methods' own.
/// </summary>
[Collection(MeasuredAlone.Name)]
public sealed class DisabledLogLevelAllocationTests : IDisposable
{
    private const int Calls = 10_000;
    private readonly string _logDir = Path.Combine(Path.GetTempPath(), $"qkchat-logalloc-{Guid.NewGuid().ToString("N")[..8]}");
    private readonly LogLevelSwitch _level = new(LogLevel.Warning);
    private readonly ILoggerFactory _factory;

    public DisabledLogLevelAllocationTests() =>
        _factory = LogSetup.Create(new LogOptions { Dir = _logDir, ToFile = true }, _level);

    public void Dispose()
    {
        _factory.Dispose();
        if (Directory.Exists(_logDir)) Directory.Delete(_logDir, recursive: true);
    }

    [Fact]
    public void The_hot_paths_debug_and_information_log_methods_allocate_nothing_at_warning()
    {
        ILogger dispatch = _factory.CreateLogger("Dispatch"), accounts = _factory.CreateLogger("Accounts"),
            messaging = _factory.CreateLogger("Messaging"), transport = _factory.CreateLogger("Transport");
        // The arguments exist before the measurement, as they would in a caller that does not build them eagerly.
        const string remote = "192.0.2.7", detail = "the frame body is not valid JSON", code = "BAD_JSON", kind = "idle", reason = "handshake timed out";
        var address = IPAddress.Parse(remote);
        var transportEvents = new QkChat.Server.Hosting.TransportEventLog(transport);

        void LogOnce()
        {
            DispatcherLog.Closed(null, dispatch, 42, CloseReason.PeerClosed);                 // Debug, every connection
            DispatcherLog.RequestRejected(null, dispatch, 42, address, code, detail);        // Information, every rejected request
            DispatcherLog.FrameRejected(null, dispatch, 42, address, 0);                     // Information, every bad frame
            DispatcherLog.TimedOut(null, dispatch, 42, kind);                                // Information, every timeout
            AccountLog.LoggedIn(null, accounts, 123_456_789);                                // Information, every login
            AccountLog.LoginFailed(null, accounts, remote);                                  // Information, every failed login
            MessagingLog.OfflinePushed(null, messaging, 123_456_789, 17, true);              // Debug, every login with mail waiting
            transportEvents.TlsHandshakeFailed(address, reason);                            // Information (ZLogger), every bad handshake
        }

        for (int i = 0; i < 1000; i++) LogOnce(); // tiered JIT, first-use caches of the logger
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++) LogOnce();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);

        // The same loggers do see the level switch: they are disabled because of it, not because nothing is wired.
        Assert.False(dispatch.IsEnabled(LogLevel.Information));
        Assert.True(dispatch.IsEnabled(LogLevel.Warning));
        _level.Level = LogLevel.Debug;
        Assert.True(dispatch.IsEnabled(LogLevel.Debug));
    }

    [Fact]
    public void A_heartbeat_round_with_the_real_logger_at_warning_allocates_zero_bytes()
    {
        var dispatcher = new Dispatcher(new ChatOptions { RequestsPerSecond = 1_000_000, RequestBurst = 1_000_000 },
            new ActionRouter(), _factory.CreateLogger("Dispatch"));
        using var memory = new InMemoryConnection(dispatcher);
        byte[] frame = Framing.Encode("""{"action":"heartbeat","request_id":"42"}"""u8);
        byte[] eight = [.. frame, .. frame, .. frame, .. frame, .. frame, .. frame, .. frame, .. frame];

        for (int i = 0; i < 1000; i++)
        {
            memory.Receive(eight);
            memory.DiscardOutput();
        }
        long responses = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            memory.Receive(eight);
            responses += memory.DiscardOutput();
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(8L * Calls, responses);
        Assert.Equal(0, allocated);
    }

    // The first parameter names the declaring type (its value is ignored for static methods).
    private static class DispatcherLog
    {
        [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "LogClosed")]
        public static extern void Closed(Dispatcher? _, ILogger logger, long id, CloseReason reason);

        [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "LogRequestRejected")]
        public static extern void RequestRejected(Dispatcher? _, ILogger logger, long id, IPAddress remote, string code, string detail);

        [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "LogFrameRejected")]
        public static extern void FrameRejected(Dispatcher? _, ILogger logger, long id, IPAddress remote, long length);

        [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "LogTimedOut")]
        public static extern void TimedOut(Dispatcher? _, ILogger logger, long id, string kind);
    }

    private static class AccountLog
    {
        [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "LogLoggedIn")]
        public static extern void LoggedIn(AccountService? _, ILogger logger, uint userId);

        [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "LogLoginFailed")]
        public static extern void LoginFailed(AccountService? _, ILogger logger, string ip);
    }

    private static class MessagingLog
    {
        [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "LogOfflinePushed")]
        public static extern void OfflinePushed(MessagingService? _, ILogger logger, uint userId, int count, bool hasMore);
    }
}
