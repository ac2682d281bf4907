using System.Buffers;
using System.Net.Sockets;
using System.Text.Json;
using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>Sees a frame body before the client parses it; returns true when it has consumed the frame (then the
/// client does nothing more with it), false to let the client match or queue it as usual. Runs on the read loop: it
/// must not block, and the span is valid only during the call.</summary>
public delegate bool RawFrameHandler(ReadOnlySpan<byte> body);

public sealed partial class ChatClient
{
    /// <summary>
    /// Frames offered to this handler first (null: none). For a caller that writes its own requests
    /// (<see cref="SendRawAsync"/>) and reads its answers and pushes straight from the bytes, without an
    /// <see cref="Envelope"/> and a JSON document per frame: the load generator's chat hot path. While one is set
    /// the client keeps its receive buffer between reads (it cannot see whether the caller awaits an answer).
    /// </summary>
    public RawFrameHandler? RawFrames { get; set; }

    /// <summary>
    /// The one read loop. While nothing is buffered and no request is waiting, it parks on a zero-byte read that
    /// holds no buffer (what makes 10,000+ idle clients cheap); a pooled buffer is rented only when bytes are ready,
    /// grown only for a frame that needs it, and returned as soon as it holds no partial frame.
    /// </summary>
    private async Task ReadLoopAsync()
    {
        byte[]? buffer = null;
        int start = 0, end = 0;
        ChatCloseInfo? outcome = null;
        try
        {
            while (outcome is null)
            {
                if (start == end)
                {
                    start = end = 0;
                    if (buffer is null || (PendingRequests == 0 && RawFrames is null))
                    {
                        // Nothing partial is kept and no answer is awaited: give the buffer back and wait for data
                        // without one. A client with requests in flight keeps it, saving a zero-byte read per response;
                        // so does one with a raw frame handler, whose requests this client does not see.
                        ReturnBuffer(ref buffer);
                        await _stream.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
                        buffer = ArrayPool<byte>.Shared.Rent(_options.ReceiveBufferBytes);
                    }
                }
                int read = await _stream.ReadAsync(buffer!.AsMemory(end)).ConfigureAwait(false);
                if (read == 0)
                {
                    outcome = new ChatCloseInfo(ChatCloseReason.ServerClosed, "end of stream");
                    break;
                }
                end += read;
                outcome = ConsumeFrames(buffer!, ref start, end, out int needed);
                if (outcome is null && start < end) MakeRoom(ref buffer, ref start, ref end, needed);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException
                                    or System.Security.Authentication.AuthenticationException)
        {
            outcome = new ChatCloseInfo(ChatCloseReason.Reset, DescribeReadFailure(e), e);
        }
        catch (Exception e)
        {
            // Never let the loop die silently: whatever it was, the connection is over and everyone waiting is told.
            outcome = new ChatCloseInfo(ChatCloseReason.Reset, "read loop failed", e);
        }
        finally
        {
            ReturnBuffer(ref buffer);
        }
        Close(outcome);
    }

    /// <summary>
    /// Dispatches every whole frame in buffer[start..end); leaves start at the first partial frame and says how many
    /// bytes that frame needs in all (just the header while its length is unknown). Returns a close reason when the
    /// server broke the framing.
    /// </summary>
    private ChatCloseInfo? ConsumeFrames(byte[] buffer, ref int start, int end, out int needed)
    {
        while (true)
        {
            ReadOnlySpan<byte> pending = buffer.AsSpan(start, end - start);
            switch (Framing.TryDecode(pending, _options.MaxFrameBytes, out int bodyLength))
            {
                case FrameStatus.Complete:
                    ChatCloseInfo? bad = Dispatch(pending.Slice(Framing.HeaderSize, bodyLength));
                    start += Framing.HeaderSize + bodyLength;
                    if (bad is not null)
                    {
                        needed = 0;
                        return bad;
                    }
                    if (start == end)
                    {
                        needed = 0;
                        return null;
                    }
                    continue;
                case FrameStatus.Incomplete:
                    needed = pending.Length < Framing.HeaderSize ? Framing.HeaderSize : Framing.HeaderSize + bodyLength;
                    return null;
                case FrameStatus.Empty:
                    needed = 0;
                    return new ChatCloseInfo(ChatCloseReason.ProtocolError, "frame with length 0");
                default:
                    needed = 0;
                    return new ChatCloseInfo(ChatCloseReason.ProtocolError,
                        $"frame longer than the {_options.MaxFrameBytes}-byte maximum");
            }
        }
    }

    /// <summary>Ensures the partial frame at <paramref name="start"/> can be completed: slides it to the front, or moves
    /// it into a larger pooled buffer when the frame is larger than the current one.</summary>
    private static void MakeRoom(ref byte[]? buffer, ref int start, ref int end, int needed)
    {
        byte[] current = buffer!;
        if (current.Length - start >= needed && end < current.Length) return;
        int kept = end - start;
        byte[] target = current.Length >= needed ? current : ArrayPool<byte>.Shared.Rent(needed);
        current.AsSpan(start, kept).CopyTo(target);   // overlapping copy is safe (memmove semantics)
        if (!ReferenceEquals(target, current)) ArrayPool<byte>.Shared.Return(current);
        buffer = target;
        start = 0;
        end = kept;
    }

    /// <summary>
    /// A response whose request_id is pending completes that request; anything else (pushes, answers to raw frames,
    /// late answers) goes to the inbox. A body that is not an envelope means the server broke protocol.md §2.
    /// </summary>
    private ChatCloseInfo? Dispatch(ReadOnlySpan<byte> body)
    {
        if (RawFrames is { } raw && raw(body)) return null;
        Envelope? envelope;
        try
        {
            // Data (a JsonElement) is parsed into its own copy by the serializer (JsonElement.ParseValue), so it
            // stays valid after this pooled buffer is reused: no explicit Clone needed.
            envelope = JsonSerializer.Deserialize(body, ProtocolJsonContext.Default.Envelope);
        }
        catch (JsonException e)
        {
            return new ChatCloseInfo(ChatCloseReason.ProtocolError, "frame body is not a JSON envelope", e);
        }
        if (envelope is null)
            return new ChatCloseInfo(ChatCloseReason.ProtocolError, "frame body is JSON null");

        if (!envelope.Push && envelope.RequestId is { } id && TryTakePending(id, out var waiter))
            waiter.TrySetResult(envelope);
        else
            Inbox.Writer.TryWrite(envelope);   // bounded, drop-oldest: never blocks the read loop
        return null;
    }

    private static void ReturnBuffer(ref byte[]? buffer)
    {
        if (buffer is null) return;
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = null;
    }

    private static string DescribeReadFailure(Exception e) => e switch
    {
        ObjectDisposedException => "connection disposed",
        IOException { InnerException: SocketException s } => "socket error " + s.SocketErrorCode,
        SocketException s => "socket error " + s.SocketErrorCode,
        _ => e.Message,
    };
}
