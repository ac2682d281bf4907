using System.Net;
using QkChat.Client;
using QkChat.LoadGen.Options;

namespace QkChat.LoadGen.Run;

/// <summary>This process's part of the run: which connections it opens and from which source addresses.</summary>
public sealed record WorkerShare(int Index, int Count, int Connections, IReadOnlyList<IPAddress> SourceAddresses)
{
    /// <summary>Connections split as evenly as possible (the first workers take the remainder).</summary>
    public static WorkerShare For(LoadGenOptions options, int index, int count) => new(
        index,
        count,
        options.Connections / count + (index < options.Connections % count ? 1 : 0),
        Options.SourceAddresses.ShareOf(options.SourceAddresses, index, count));
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
        });
    }

    public LoadGenOptions Options { get; }
    public WorkerShare Share { get; }
    public RunClock Clock { get; }
    public RunStats Stats { get; } = new();

    /// <summary>Cancelled at the deadline (or on Ctrl-C): everything still running stops.</summary>
    public CancellationToken HardStop { get; }

    public TimeSpan RequestTimeout => TimeSpan.FromSeconds(Options.RequestTimeoutSeconds);

    /// <summary>Connection <paramref name="index"/> binds the source addresses in turn, so each gets an equal share.</summary>
    public ChatClientOptions ClientOptionsFor(int index) => _clientOptions[index % _clientOptions.Length];
}
