using System.Text.Json;
using Microsoft.Extensions.Logging;
using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Accounts;

/// <summary>A user's view of their own devices: get_sessions and revoke_session (protocol.md §5, §8).</summary>
public sealed partial class AccountService
{
    private void GetSessions(RequestContext ctx)
    {
        uint userId = ctx.Session.UserId;
        string current = ctx.Session.ClientId!;
        RunAsync(ctx, async pending =>
        {
            var devices = await _sessions.ListAsync(userId, CancellationToken.None);
            // "online" is read here, not in the writer: the writer runs on the caller's reactor and must stay cheap.
            // Over all nodes (the device registry with several).
            var online = await Delivery.DevicesEverywhereAsync(userId);
            var rows = devices.Select(d => (Device: d, Online: online.Contains(d.ClientId))).ToList();
            pending.Complete(ErrorCodes.Ok, "ok", (rows, current), WriteSessions);
        });
    }

    private static readonly Action<Utf8JsonWriter, (List<(DeviceSessionInfo Device, bool Online)> Rows, string Current)> WriteSessions =
        static (w, s) =>
        {
            w.WriteStartArray("sessions"u8);
            foreach (var (d, online) in s.Rows)
            {
                w.WriteStartObject();
                w.WriteString("client_id"u8, d.ClientId);
                w.WriteString("device"u8, d.Device);
                w.WriteString("last_ip"u8, d.LastIp);
                w.WriteNumber("last_active_at"u8, d.LastActiveAt);
                w.WriteBoolean("online"u8, online);
                w.WriteBoolean("current"u8, d.ClientId == s.Current);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        };

    private void RevokeSession(RequestContext ctx)
    {
        var request = Parse(ctx, r => InputRules.ClientId(r.ClientId));
        if (request is null) return;
        uint userId = ctx.Session.UserId;
        string target = request.ClientId!;
        bool self = target == ctx.Session.ClientId;
        string ip = ctx.Session.RemoteAddress.ToString();
        RunAsync(ctx, async pending =>
        {
            // Checked against the user's own live sessions first, so another user's device, an expired token and a
            // repeat revocation all answer NOT_FOUND alike and nothing is written.
            var devices = await _sessions.ListAsync(userId, CancellationToken.None);
            var revoked = devices.FirstOrDefault(d => d.ClientId == target);
            if (revoked is null)
            {
                pending.Complete(ErrorCodes.NotFound, "client_id: no live session of yours on that device");
                return;
            }
            await _sessions.RevokeAsync(userId, target, CancellationToken.None);
            LogSessionRevoked(_logger, userId, self);
            // protocol.md §8: client_id and device are the revoked device's; the address is the caller's.
            Audit(AuditEvent.SessionRevoked, userId, target, revoked.Device, ip, true, self ? "own" : "other");
            if (!self)
            {
                // Kicked whether or not the caller is still there to read the answer.
                KickRevoked(userId, [target]);
                pending.Complete(ErrorCodes.Ok, "session revoked");
                return;
            }
            // Revoking oneself leaves no token behind this connection, so it goes too; the kick is posted from the
            // reactor callback, which queues it behind the response: the caller reads OK, then `kicked`, then EOF.
            pending.Complete<object?>(ErrorCodes.Ok, "session revoked; this connection closes", null, null,
                _ => KickRevoked(userId, [target]));
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "user {UserId} revoked a device session (own: {Own})")]
    private static partial void LogSessionRevoked(ILogger logger, uint userId, bool own);
}
