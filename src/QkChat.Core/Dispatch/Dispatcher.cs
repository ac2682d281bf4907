using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using QkChat.Protocol;
using QkChat.Transport;

namespace QkChat.Core.Dispatch;

/// <summary>
/// The transport's consumer: takes each whole request body (the listener's codec has split the stream), validates it,
/// enforces the session rules (rate limit, login and idle timeouts, pre-login allow list) and routes the request by
/// action. Runs on the connection's reactor; the heartbeat path allocates nothing. Outbound messages are built by
/// <see cref="Frames"/>; answers keep request order in Dispatcher.Answers.cs.
/// </summary>
public sealed partial class Dispatcher : IConnectionHandler
{
    // 64 characters of request_id are at most 256 UTF-8 bytes.
    private const int RequestIdBytes = RequestHead.MaxRequestIdChars * 4;

    private readonly ChatOptions _options;
    private readonly ActionRouter _router;
    private readonly ILogger _logger;

    public Dispatcher(ChatOptions options, ActionRouter router, ILogger logger)
    {
        _options = options;
        _router = router;
        _logger = logger;
        Requests = new RequestMetrics(router);
        router.Register(Actions.Heartbeat, allowedBeforeLogin: true, Heartbeat);
    }

    /// <summary>Requests by action and result code and their latency, per reactor (docs/observability.md).</summary>
    public RequestMetrics Requests { get; }

    /// <summary>
    /// Raised on the reactor when the dispatcher closes a connection for what its client did (<see cref="ForcedClose.Abuse"/>)
    /// or could not keep up with (<see cref="ForcedClose.SlowConsumer"/>), with a short reason class ("empty_frame",
    /// "send_queue"). The audit log subscribes at composition (Audit/ForcedCloseAudit.cs): Dispatch does not know it.
    /// </summary>
    public event Action<Session, ForcedClose, string>? ClosedForCause;

    public void OnOpened(Connection connection)
    {
        long now = Environment.TickCount64;
        _opened = true;
        var session = new Session(connection, _slots, Requests.For(connection.Reactor.Index));
        session.Rate.Init(_options.RequestBurst, now);
        connection.State = session;
        connection.SetDeadline(now + (long)_options.LoginTimeout.TotalMilliseconds);
    }

    public void OnFrame(Connection connection, ReadOnlySpan<byte> body) =>
        HandleFrame(connection, (Session)connection.State!, body);

    /// <summary>protocol.md §1: an empty frame is BAD_FRAME, a declared length over the maximum FRAME_TOO_LARGE; both close.</summary>
    public void OnBadFrame(Connection connection, FrameError error, long declaredLength, int maxBodyBytes)
    {
        var session = (Session)connection.State!;
        LogFrameRejected(_logger, connection.Id, connection.RemoteAddress, declaredLength);
        if (error == FrameError.Empty)
        {
            CloseForCause(session, ForcedClose.Abuse, "empty_frame");
            SendErrorAndClose(connection, ErrorCodes.BadFrame, "frame length 0 is not allowed");
            return;
        }
        if (error == FrameError.Unsupported)
        {
            // protocol.md §11: a WebSocket binary message; the codec's close frame (1003) follows the error.
            CloseForCause(session, ForcedClose.Abuse, "binary_message");
            SendErrorAndClose(connection, ErrorCodes.BadFrame, "binary messages are not accepted: send each JSON object as a text message");
            return;
        }
        if (error == FrameError.Invalid)
        {
            CloseForCause(session, ForcedClose.Abuse, "invalid_frame");
            SendErrorAndClose(connection, ErrorCodes.BadFrame, "the frame breaks the framing's rules (RFC 6455: unmasked, reserved bits, unknown opcode or a control frame inside a fragmented message)");
            return;
        }
        CloseForCause(session, ForcedClose.Abuse, "oversize_frame");
        SendErrorAndClose(connection, ErrorCodes.FrameTooLarge,
            $"frame length {declaredLength} exceeds the maximum of {maxBodyBytes} bytes");
    }

    private void HandleFrame(Connection connection, Session session, ReadOnlySpan<byte> body)
    {
        // The request's clock starts before parsing and stops when its response frame is built (0: not measured).
        long started = _options.MetricsEnabled ? Stopwatch.GetTimestamp() : 0;
        long now = Environment.TickCount64;
        if (session.LoggedIn) connection.SetDeadline(now + (long)_options.IdleTimeout.TotalMilliseconds);

        Span<byte> actionBuffer = stackalloc byte[RequestHead.MaxActionBytes];
        Span<byte> requestIdBuffer = stackalloc byte[RequestIdBytes];
        var error = RequestHead.Read(body, actionBuffer, out int actionLength, requestIdBuffer, out int requestIdLength);
        var action = actionLength > 0 ? actionBuffer[..actionLength] : default;
        var requestId = requestIdLength >= 0 ? requestIdBuffer[..requestIdLength] : default;
        bool hasRequestId = requestIdLength >= 0;

        if (!session.Rate.TryTake(_options.RequestsPerSecond, _options.RequestBurst, now, out int retryAfterMs))
        {
            Respond(connection, action, requestId, hasRequestId, ErrorCodes.RateLimited, "too many requests; slow down",
                retryAfterMs, static (w, ms) => w.WriteNumber("retry_after_ms"u8, ms), RequestStats.RejectedRow, started);
            return;
        }
        if (error != RequestHeadError.None)
        {
            RejectRequest(connection, session, error, action, requestId, hasRequestId, started);
            return;
        }
        session.ConsecutiveBadFrames = 0;

        var route = _router.Find(action);
        if (route is null)
        {
            Respond(connection, action, requestId, hasRequestId, ErrorCodes.UnknownAction,
                $"unknown action '{Encoding.UTF8.GetString(action)}'", RequestStats.RejectedRow, started);
            return;
        }
        if (!session.LoggedIn && !route.AllowedBeforeLogin)
        {
            Respond(connection, action, requestId, hasRequestId, ErrorCodes.Unauthenticated, "log in first", RequestStats.RejectedRow, started);
            return;
        }
        route.Handler(new RequestContext(this, connection, session, body, action, requestId, hasRequestId, route.Index + 1, started));
    }

    private void RejectRequest(Connection connection, Session session, RequestHeadError error,
        ReadOnlySpan<byte> action, ReadOnlySpan<byte> requestId, bool hasRequestId, long started)
    {
        (string code, string message) = error switch
        {
            RequestHeadError.NotUtf8 => (ErrorCodes.BadJson, "the frame body is not valid UTF-8"),
            RequestHeadError.NotJson => (ErrorCodes.BadJson, "the frame body is not valid JSON"),
            RequestHeadError.NotAnObject => (ErrorCodes.BadJson, "the frame body must be a JSON object"),
            RequestHeadError.TooDeep => (ErrorCodes.BadJson, $"the frame body nests deeper than {RequestHead.MaxDepth} levels"),
            RequestHeadError.LoneSurrogate => (ErrorCodes.BadJson, "a string holds an escaped lone surrogate (\\uD800-\\uDFFF without its pair)"),
            RequestHeadError.ActionMissing => (ErrorCodes.InvalidArgument, "action: required"),
            RequestHeadError.ActionNotString => (ErrorCodes.InvalidArgument, "action: must be a string of at most 64 bytes"),
            RequestHeadError.RequestIdNotString => (ErrorCodes.InvalidArgument, "request_id: must be a string"),
            _ => (ErrorCodes.InvalidArgument, $"request_id: at most {RequestHead.MaxRequestIdChars} characters"),
        };
        LogRequestRejected(_logger, connection.Id, connection.RemoteAddress, code, message);
        Respond(connection, action, requestId, hasRequestId, code, message, RequestStats.RejectedRow, started);
        if (code == ErrorCodes.BadJson && ++session.ConsecutiveBadFrames >= _options.MaxConsecutiveBadFrames)
        {
            CloseForCause(session, ForcedClose.Abuse, "bad_frames");
            SendErrorAndClose(connection, ErrorCodes.BadJson, $"{session.ConsecutiveBadFrames} malformed frames in a row");
        }
    }

    public void OnDeadline(Connection connection)
    {
        var session = (Session)connection.State!;
        if (!session.LoggedIn)
        {
            LogTimedOut(_logger, connection.Id, "login");
            SendErrorAndClose(connection, ErrorCodes.Unauthenticated,
                $"not logged in within {_options.LoginTimeout.TotalSeconds:0} s", CloseReason.Timeout);
            return;
        }
        LogTimedOut(_logger, connection.Id, "idle");
        connection.Send(Frames.CreatePush(PushNames.Kicked, 0, static (w, _) => w.WriteString("reason"u8, "idle_timeout"u8)));
        connection.CloseAfterFlush(CloseReason.Timeout);
    }

    public void OnClosed(Connection connection, CloseReason reason)
    {
        var session = (Session)connection.State!;
        DropAnswers(session);
        SessionClosed?.Invoke(session);
        if (reason == CloseReason.SlowConsumer)
        {
            LogSlowConsumer(_logger, connection.Id, connection.RemoteAddress, connection.QueuedBytes);
            CloseForCause(session, ForcedClose.SlowConsumer, "send_queue");
        }
        else
            LogClosed(_logger, connection.Id, reason);
    }

    private void CloseForCause(Session session, ForcedClose cause, string detail) => ClosedForCause?.Invoke(session, cause, detail);

    private static void Heartbeat(RequestContext context)
    {
        // client_id is optional and unused (the connection knows its device), but a present one must be a string.
        if (!RequestFields.IsStringIfPresent(context.Body, "client_id"u8))
        {
            context.Respond(ErrorCodes.InvalidArgument, "client_id: must be a string");
            return;
        }
        context.Respond(ErrorCodes.Ok, "ok", 0, static (w, _) => w.WriteNumber("server_time"u8, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
    }
}
