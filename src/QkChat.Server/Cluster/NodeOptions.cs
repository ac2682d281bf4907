using System.Globalization;
using QkChat.Core.Messaging;

namespace QkChat.Server.Cluster;

/// <summary>
/// This node's identity in a deployment (server.node_id, server.node_lease_ttl_s): the option registry binds these
/// properties; their initializers are the defaults. docs/cluster.md explains the lease.
/// </summary>
public sealed class NodeOptions
{
    public const string Auto = "auto";

    /// <summary>"auto" (the first free number 0-15 is leased at start) or a fixed number 0-15.</summary>
    public string Id { get; set; } = Auto;

    /// <summary>
    /// Lifetime of the node-id lease in Redis; it is renewed every third of it (<see cref="NodeLease.RenewalPeriod"/>).
    /// 15 s: protocol.md §12 wants a dead node's devices offline within 30 s, and the presence registry uses the lease
    /// as its liveness signal, so the lease must lapse well inside 30 s; 15 s leaves the other 15 for noticing and
    /// pushing presence, and with renewals every 5 s two missed renewals in a row still lose nothing.
    /// </summary>
    public int LeaseTtlSeconds { get; set; } = 15;

    /// <summary>The configured number, or null for "auto".</summary>
    public int? FixedId => ParseId(Id, out int? id) is null ? id : null;

    /// <summary>Null when <paramref name="raw"/> is "auto" or 0-15 (then <paramref name="id"/> holds it, null for auto); else what is allowed.</summary>
    public static string? ParseId(string raw, out int? id)
    {
        id = null;
        string v = raw.Trim();
        if (string.Equals(v, Auto, StringComparison.OrdinalIgnoreCase)) return null;
        if (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n <= MessageIds.MaxNode)
        {
            id = n;
            return null;
        }
        return $"\"{Auto}\" or an integer from 0 to {MessageIds.MaxNode}";
    }
}
