using System.Runtime.CompilerServices;
using System.Threading.Channels;
using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>
/// The inbox: envelopes no pending request claimed (pushes, answers to raw frames, late answers), in arrival order.
/// <see cref="WaitForAsync"/> may pass over some while looking for one; those are set aside, not lost, and the next
/// reads return them first, still in arrival order.
/// </summary>
public sealed partial class ChatClient
{
    // Created on first use: a bounded channel with its reader and writer costs about 1 KB, a third of an idle
    // client, and most load-generator connections never receive a push.
    private Channel<Envelope>? _inbox;
    private readonly Lock _setAsideLock = new();
    private Queue<Envelope>? _setAside;
    private long _droppedUnsolicited;

    /// <summary>Inbox envelopes dropped because <see cref="ChatClientOptions.MaxUnsolicited"/> were already waiting.</summary>
    public long DroppedUnsolicited => Interlocked.Read(ref _droppedUnsolicited);

    /// <summary>Takes the next inbox envelope if one is there.</summary>
    public bool TryReceiveAny(out Envelope envelope)
    {
        lock (_setAsideLock)
        {
            if (_setAside is { Count: > 0 })
            {
                envelope = _setAside.Dequeue();
                return true;
            }
        }
        return Inbox.Reader.TryRead(out envelope!);
    }

    /// <summary>
    /// The next envelope that no pending <see cref="RequestAsync"/> claimed: a push, or a response nobody waits for.
    /// Envelopes that arrived before the connection closed can still be read after it.
    /// </summary>
    /// <exception cref="TimeoutException">Nothing arrived within <paramref name="timeout"/>.</exception>
    /// <exception cref="ChatConnectionClosedException">The connection ended and the inbox is empty.</exception>
    public Task<Envelope> ReceiveAnyAsync(TimeSpan timeout, CancellationToken ct = default) =>
        WaitForAsync(static _ => true, timeout, "any envelope", ct);

    /// <summary>
    /// Every inbox envelope as it arrives (set-aside ones first), until the connection has ended and the inbox is
    /// drained, or <paramref name="ct"/> is cancelled. One consumer at a time: competing readers split the stream.
    /// </summary>
    public async IAsyncEnumerable<Envelope> ReadInboxAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        while (true)
        {
            if (TakeSetAside(static _ => true) is { } earlier)
            {
                yield return earlier;
                continue;
            }
            if (!await Inbox.Reader.WaitToReadAsync(ct).ConfigureAwait(false)) yield break;
            if (Inbox.Reader.TryRead(out Envelope? next)) yield return next;
        }
    }

    /// <summary>
    /// The next push named <paramref name="action"/>. Other envelopes met on the way are set aside in order, so a
    /// later <see cref="ReceiveAnyAsync"/> or WaitForPushAsync still sees them.
    /// </summary>
    public Task<Envelope> WaitForPushAsync(string action, TimeSpan timeout, CancellationToken ct = default) =>
        WaitForAsync(e => e.Push && e.Action == action, timeout, $"a '{action}' push", ct);

    /// <summary>The first inbox envelope matching <paramref name="match"/>; others are set aside (see the class remarks).</summary>
    public async Task<Envelope> WaitForAsync(Func<Envelope, bool> match, TimeSpan timeout, string? description = null,
        CancellationToken ct = default)
    {
        if (TakeSetAside(match) is { } earlier) return earlier;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            while (true)
            {
                Envelope next = await Inbox.Reader.ReadAsync(deadline.Token).ConfigureAwait(false);
                if (match(next)) return next;
                SetAside(next);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no {description ?? "matching envelope"} within {timeout.TotalMilliseconds:0} ms");
        }
        catch (ChannelClosedException)
        {
            throw new ChatConnectionClosedException(CloseInfo!);
        }
    }

    private Channel<Envelope> Inbox => Volatile.Read(ref _inbox) ?? CreateInbox();

    private Channel<Envelope> CreateInbox()
    {
        var created = Channel.CreateBounded<Envelope>(
            new BoundedChannelOptions(_options.MaxUnsolicited)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleWriter = true,
                SingleReader = false,
            },
            _ => Interlocked.Increment(ref _droppedUnsolicited));
        Channel<Envelope> inbox = Interlocked.CompareExchange(ref _inbox, created, null) ?? created;
        // Close completes the inbox only if it saw one; an inbox created after the close is completed here.
        if (Volatile.Read(ref _closeInfo) is not null) inbox.Writer.TryComplete();
        return inbox;
    }

    private Envelope? TakeSetAside(Func<Envelope, bool> match)
    {
        lock (_setAsideLock)
        {
            if (_setAside is not { Count: > 0 }) return null;
            Envelope? found = null;
            int count = _setAside.Count;
            // One rotation keeps the others in their order.
            for (int i = 0; i < count; i++)
            {
                Envelope e = _setAside.Dequeue();
                if (found is null && match(e)) found = e;
                else _setAside.Enqueue(e);
            }
            return found;
        }
    }

    private void SetAside(Envelope envelope)
    {
        lock (_setAsideLock)
        {
            _setAside ??= new Queue<Envelope>();
            // Same bound and drop policy as the inbox itself.
            if (_setAside.Count >= _options.MaxUnsolicited)
            {
                _setAside.Dequeue();
                Interlocked.Increment(ref _droppedUnsolicited);
            }
            _setAside.Enqueue(envelope);
        }
    }
}
