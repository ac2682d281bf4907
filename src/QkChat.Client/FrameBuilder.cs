using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>
/// Builds one frame (header + JSON body) into a pooled array. One builder and its Utf8JsonWriter are cached per
/// thread, so a request allocates only its pooled array, which the sender returns after writing.
/// </summary>
internal sealed class FrameBuilder : IBufferWriter<byte>
{
    /// <summary>First array size: a typical request (heartbeat, send_message with a short text) fits in 512 bytes.</summary>
    private const int InitialBytes = 512;

    /// <summary>Validation stays on (unlike the server's writer): a caller's malformed field throws here instead of
    /// reaching the wire. Relaxed escaping keeps non-ASCII text as UTF-8, as the server writes it.</summary>
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic] private static FrameBuilder? t_cached;

    private readonly Utf8JsonWriter _writer;
    private byte[] _array = [];
    private int _written;

    private FrameBuilder() => _writer = new Utf8JsonWriter(this, WriterOptions);

    /// <summary>Serializes {"action", "request_id", ...fields} as a frame. The caller returns the array to the shared pool.</summary>
    public static (byte[] Array, int Length) BuildRequest(string action, string requestId, Action<Utf8JsonWriter>? writeFields)
    {
        // Taking the cached builder out (not just reading it) keeps a re-entrant writeFields from sharing it.
        FrameBuilder builder = t_cached ?? new FrameBuilder();
        t_cached = null;
        try
        {
            builder.Start();
            Utf8JsonWriter w = builder._writer;
            w.WriteStartObject();
            w.WriteString("action"u8, action);
            w.WriteString("request_id"u8, requestId);
            writeFields?.Invoke(w);
            w.WriteEndObject();
            w.Flush();
            return builder.Detach();
        }
        catch
        {
            builder.Abandon();
            throw;
        }
        finally
        {
            builder._writer.Reset();
            t_cached = builder;
        }
    }

    /// <summary>Header + <paramref name="body"/> in one pooled array, so a frame goes out in one write.</summary>
    public static (byte[] Array, int Length) Frame(ReadOnlySpan<byte> body)
    {
        int length = Framing.HeaderSize + body.Length;
        byte[] array = ArrayPool<byte>.Shared.Rent(length);
        Framing.WriteHeader(array, body.Length);
        body.CopyTo(array.AsSpan(Framing.HeaderSize));
        return (array, length);
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _array.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _array.AsSpan(_written);
    }

    private void Start()
    {
        _array = ArrayPool<byte>.Shared.Rent(InitialBytes);
        _written = Framing.HeaderSize;   // the header is filled in once the body length is known
    }

    private (byte[] Array, int Length) Detach()
    {
        Framing.WriteHeader(_array, _written - Framing.HeaderSize);
        var result = (_array, _written);
        _array = [];
        _written = 0;
        return result;
    }

    private void Abandon()
    {
        if (_array.Length > 0) ArrayPool<byte>.Shared.Return(_array);
        _array = [];
        _written = 0;
    }

    private void Reserve(int sizeHint)
    {
        int needed = _written + Math.Max(sizeHint, 1);
        if (needed <= _array.Length) return;
        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _array.Length * 2));
        _array.AsSpan(0, _written).CopyTo(larger);
        if (_array.Length > 0) ArrayPool<byte>.Shared.Return(_array);
        _array = larger;
    }
}
