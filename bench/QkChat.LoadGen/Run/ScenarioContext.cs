using System.Net;
using QkChat.Client;
using QkChat.LoadGen.Options;

namespace QkChat.LoadGen.Run;

/// <summary>This process's part of the run: which connections it opens (<paramref name="First"/> is the run-wide index
/// of its first one) and from which source addresses.</summary>
public sealed record WorkerShare(int Index, int Count, int Connections, IReadOnlyList<IPAddress> SourceAddresses, int First = 0)
{
    /// <summary>Connections split as evenly as possible (the first workers take the remainder); chat splits pairs,
    /// so that both halves of a pair live in one process and delivery is tracked without talking across them.</summary>
    public static WorkerShare For(LoadGenOptions options, int index, int count)
    {
        (int first, int connections) = options.IsPairScenario ? PairSplit(options.Connections, index, count)
            : options.IsGroupScenario ? GroupSplit(options.Connections, options.GroupSize, index, count)
            : Split(options.Connections, index, count);
        return new(index, count, connections, Options.SourceAddresses.ShareOf(options.SourceAddresses, index, count), first);
    }

    /// <summary>Part <paramref name="index"/> of <paramref name="items"/> split over <paramref name="count"/>: the
    /// first (items mod count) parts take one more.</summary>
    public static (int First, int Count) Split(int items, int index, int count) =>
        (index * (items / count) + Math.Min(index, items % count), items / count + (index < items % count ? 1 : 0));

    /// <summary>group: connections [k * size, (k + 1) * size) are group k (the last may be shorter); the groups are
    /// split, so a group's members, senders and receivers alike, live in one process, and the time of an entry's push
    /// to its last member is known without talking across processes.</summary>
    public static (int First, int Connections) GroupSplit(int connections, int groupSize, int index, int count)
    {
        (int firstGroup, int groups) = Split((connections + groupSize - 1) / groupSize, index, count);
        int first = firstGroup * groupSize;
        return (first, Math.Min(connections, (firstGroup + groups) * groupSize) - first);
    }

    /// <summary>Connections 2k and 2k+1 are a pair: the pairs are split, so every share starts even and is even.</summary>
    public static (int First, int Connections) PairSplit(int connections, int index, int count)
    {
        (int firstPair, int pairs) = Split(connections / 2, index, count);
        return (2 * firstPair, 2 * pairs);
    }
}

/// <summary>What a scenario needs to run in one process: options, its share, the shared clock, and where to count.</summary>
public sealed class ScenarioContext
{
    private readonly ChatClientOptions[] _clientOptions;

    public ScenarioContext(LoadGenOptions options, WorkerShare share, RunClock clock, CancellationToken hardStop)
    {
        Options = options;
        Share = share;
        Clock = clock;
        HardStop = hardStop;
        Stats = new RunStats { Series = new LatencySeries(clock.RampEndTimestamp, options.DurationSeconds) };
        IPAddress?[] sources = share.SourceAddresses.Count == 0 ? [null] : [.. share.SourceAddresses];
        _clientOptions = Array.ConvertAll(sources, source => new ChatClientOptions
        {
            LocalAddress = source,
            ConnectTimeout = TimeSpan.FromSeconds(options.ConnectTimeoutSeconds),
            RequestTimeout = RequestTimeout,
            UseTls = options.Tls,
            TlsTargetHost = options.TlsHost,
            CertificateValidation = options.TlsInsecure ? static (_, _, _, _) => true : null,
            // The scenarios' continuations only record and send again; they never block the read loop.
            InlineCompletions = true,
            // chat and group read their pushes as they come, but a connection can fall behind for a moment on a busy 2-core
            // box, and a push dropped from a full inbox would show as a lost message: room for a long stall
            // (memory is used only while they wait). The others keep the client's default.
            MaxUnsolicited = options.TracksDelivery ? ChatInboxCapacity : DefaultClientOptions.MaxUnsolicited,
        });
    }

    /// <summary>Opens one client to <paramref name="node"/> over the chosen transport (--transport: the chat port, or the WebSocket gateway).</summary>
    public Task<ChatClient> ConnectAsync(NodeEndpoint node, ChatClientOptions clientOptions, CancellationToken ct) =>
        Options.WebSocket
            ? ChatClient.ConnectWebSocketAsync(new Uri($"{(Options.Tls ? "wss" : "ws")}://{node.Host}:{node.Port}/ws"), clientOptions, ct: ct)
            : ChatClient.ConnectAsync(node.Host, node.Port, clientOptions, ct);

    /// <summary>chat: pushes one connection may hold unread before the client drops the oldest.</summary>
    public const int ChatInboxCapacity = 1 << 16;

    private static readonly ChatClientOptions DefaultClientOptions = new();

    public LoadGenOptions Options { get; }
    public WorkerShare Share { get; }
    public RunClock Clock { get; }
    public RunStats Stats { get; }

    /// <summary>Per-action outcomes (chat, mixed).</summary>
    public ActionStats Actions { get; } = new();

    /// <summary>Cancelled at the deadline (or on Ctrl-C): everything still running stops.</summary>
    public CancellationToken HardStop { get; }

    public TimeSpan RequestTimeout => TimeSpan.FromSeconds(Options.RequestTimeoutSeconds);

    /// <summary>The node this process's connection <paramref name="index"/> connects to (by its run-wide index, so every
    /// worker follows one assignment).</summary>
    public NodeEndpoint EndpointFor(int index) => Options.EndpointFor(Share.First + index);

    /// <summary>Connection <paramref name="index"/> binds the source addresses in turn, so each gets an equal share.</summary>
    public ChatClientOptions ClientOptionsFor(int index) => _clientOptions[index % _clientOptions.Length];
}
