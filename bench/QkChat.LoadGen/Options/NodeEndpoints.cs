using System.Globalization;

namespace QkChat.LoadGen.Options;

/// <summary>One server node to connect to.</summary>
public readonly record struct NodeEndpoint(string Host, int Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// --nodes: the nodes of one deployment (docs/cluster.md) a run spreads its connections over, and which connection
/// goes to which. The rule depends only on the run-wide connection index, so every worker process agrees on it
/// without talking to the others.
/// </summary>
public static class NodeEndpoints
{
    /// <summary>The 16 node ids a deployment can have (docs/cluster.md "Node ids and the lease").</summary>
    public const int MaxNodes = 16;

    /// <summary>"h:p,h:p,..": host:port each, [v6]:port for IPv6; a port is required (nodes of one host differ by it).</summary>
    public static NodeEndpoint[] Parse(string value)
    {
        string[] parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || parts.Length > MaxNodes) throw new FormatException($"'{value}' is not a list of 1-{MaxNodes} host:port");
        var nodes = Array.ConvertAll(parts, ParseOne);
        var duplicate = nodes.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new FormatException($"{duplicate.Key} is listed twice");
        return nodes;
    }

    private static NodeEndpoint ParseOne(string part)
    {
        int colon = part.LastIndexOf(':');
        if (colon <= 0 || colon == part.Length - 1) throw new FormatException($"'{part}' is not host:port");
        string host = part[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        else if (host.Contains(':', StringComparison.Ordinal)) throw new FormatException($"'{part}': write an IPv6 address as [addr]:port");
        if (!int.TryParse(part[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65_535)
            throw new FormatException($"'{part}' has no port from 1 to 65535");
        return new NodeEndpoint(host, port);
    }

    /// <summary>
    /// The node (an index into the list of <paramref name="nodeCount"/>) of run-wide connection <paramref name="connection"/>.
    /// Round-robin over connections, except that with <paramref name="pairsTogether"/> (chat and mixed without
    /// --cross-node) the pairs 2k, 2k+1 go round-robin, so both halves of a pair sit on one node and messages stay on it.
    /// Plain round-robin puts 2k and 2k+1 on different nodes whenever there are two or more: that is --cross-node.
    /// </summary>
    public static int NodeOf(int connection, int nodeCount, bool pairsTogether)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(connection);
        ArgumentOutOfRangeException.ThrowIfLessThan(nodeCount, 1);
        return (pairsTogether ? connection / 2 : connection) % nodeCount;
    }
}
