using QkChat.Core.Audit;
using QkChat.Core.Groups;
using QkChat.Core.Messaging;
using QkChat.Core.Routing;

namespace QkChat.Server.Admin;

/// <summary>
/// The parts of the running chat features the admin listener reads (connections, the message and group writers,
/// the audit log). Hosting's ChatFeatures implements it, so Admin does not depend on Hosting, which starts it.
/// </summary>
public interface IMonitoredFeatures
{
    LiveSessions Live { get; }
    MessagingService Messaging { get; }
    GroupService Groups { get; }
    AuditBatcher Audit { get; }

    /// <summary>File transfer counters (uploads, downloads).</summary>
    QkChat.Core.Files.FileTransferStats FileStats { get; }

    /// <summary>Cross-node routing counters; null when the node routes nothing across nodes (tests).</summary>
    QkChat.Server.Cluster.RouteStats? Routes { get; }
}
