using System.Text.Json;
using Microsoft.Extensions.Logging;
using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Audit;

/// <summary>A stored security event as a user sees it (protocol.md §5 get_security_events).</summary>
public sealed record SecurityEvent(long EventId, string Event, long At, string? ClientId, string? Device, string? Ip, bool Ok);

/// <summary>Reads a user's own security events (MariaDB in the server).</summary>
public interface ISecurityEventStore
{
    /// <summary>
    /// The user's events named in protocol.md §8 (<see cref="SecurityEventService.UserVisible"/>) with an id below
    /// <paramref name="beforeId"/> (all when null), newest first, at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<SecurityEvent>> ListAsync(uint userId, long? beforeId, int limit, CancellationToken ct);
}

/// <summary>
/// get_security_events: a user's own audit trail. Only rows carrying the caller's user id are read, so events with
/// no known user (a failed login for an unknown name, an abusive connection before login) are never shown to anyone
/// but operators (`qkchatd audit`); slow-consumer and abuse closes are operator-only too.
/// </summary>
public sealed class SecurityEventService(ISecurityEventStore store, ILogger logger)
{
    public const int DefaultLimit = 20, MaxLimit = 100;

    /// <summary>The event names of protocol.md §8, the ones a user may see.</summary>
    public static readonly string[] UserVisible =
    [
        .. Enum.GetValues<AuditEvent>().Where(e => e is not (AuditEvent.SlowConsumer or AuditEvent.Abuse)).Select(e => e.Name()),
    ];

    public void Register(ActionRouter router) => router.Register(Actions.GetSecurityEvents, allowedBeforeLogin: false, GetSecurityEvents);

    private void GetSecurityEvents(RequestContext ctx)
    {
        if (RequestFields.Parse(ctx, SecurityEventsRequest.Json) is not { } request) return;
        if (request.Limit is < 1 or > MaxLimit)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, $"limit: 1-{MaxLimit}");
            return;
        }
        if (request.Before is <= 0 or >= 1L << 53)
        {
            ctx.Respond(ErrorCodes.InvalidArgument, "before: an event id (a positive integer)");
            return;
        }
        uint me = ctx.Session.UserId;
        int limit = request.Limit ?? DefaultLimit;
        long? before = request.Before;
        OffReactor.Run(ctx, logger, async pending =>
        {
            var events = await store.ListAsync(me, before, limit, CancellationToken.None);
            pending.Complete(ErrorCodes.Ok, "ok", events, WriteEvents);
        });
    }

    private static readonly Action<Utf8JsonWriter, IReadOnlyList<SecurityEvent>> WriteEvents = static (w, events) =>
    {
        w.WriteStartArray("events"u8);
        foreach (var e in events)
        {
            w.WriteStartObject();
            w.WriteNumber("event_id"u8, e.EventId);
            w.WriteString("event"u8, e.Event);
            w.WriteNumber("at"u8, e.At);
            w.WriteString("client_id"u8, e.ClientId);
            w.WriteString("device"u8, e.Device);
            w.WriteString("ip"u8, e.Ip);
            w.WriteString("outcome"u8, e.Ok ? "ok"u8 : "failed"u8);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    };
}
