using QkChat.Core.Dispatch;

namespace QkChat.Core.Audit;

/// <summary>
/// The audit rows of connections the dispatcher closed for abuse or as slow consumers (operators only, docs/audit.md).
/// The dispatcher raises an event and this folder records it, so Dispatch does not depend on Audit.
/// </summary>
public static class ForcedCloseAudit
{
    /// <summary>Subscribes <paramref name="audit"/> to <paramref name="dispatcher"/>'s forced closes (at composition, before the engine starts).</summary>
    public static void RecordForcedCloses(this IAuditLog audit, Dispatcher dispatcher) =>
        dispatcher.ClosedForCause += (session, cause, detail) => audit.Record(Row(session, cause, detail));

    /// <summary>The user and device when the connection had logged in, always its address.</summary>
    internal static AuditRecord Row(Session session, ForcedClose cause, string detail) =>
        new(cause == ForcedClose.SlowConsumer ? AuditEvent.SlowConsumer : AuditEvent.Abuse, session.LoggedIn ? session.UserId : null,
            session.ClientId, session.Device, session.RemoteAddress.ToString(), false, detail);
}
