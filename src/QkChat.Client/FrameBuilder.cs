using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>
/// Builds one frame (header + JSON body) into a pooled array. Builders and their Utf8JsonWriter are cached per thread
/// (one checked, one unchecked), so a frame allocates only its pooled array, which the sender returns after writing.
/// <see cref="BuildRequest"/> is ChatClient's path; a caller that writes its own frames (the load generator's chat
/// path) uses <see cref="Take"/>, <see cref="Writer"/>, <see cref="Detach"/> and <see cref="Give"/>.
/// </summary>
public sealed class FrameBuilder : IBufferWriter<byte>
{
    /// <summary>First array size: a typical request (heartbeat, send_message with a short text) fits in 512 bytes.</summary>
    private const int InitialBytes = 512;

    /// <summary>Validation on (unlike the server's writer): a caller's malformed field throws here instead of reaching
    /// the wire. Relaxed escaping keeps non-ASCII text as UTF-8, as the server writes it.</summary>
    private static readonly JsonWriterOptions Checked = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Validation off, for a caller that always writes whole objects and wants the cheapest writer.</summary>
    private static readonly JsonWriterOptions Unchecked = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    [ThreadStatic] private static FrameBuilder? t_checked;
    [ThreadStatic] private static FrameBuilder? t_unchecked;

    private readonly bool _validated;
    private byte[] _array = [];
    private int _written;

    private FrameBuilder(bool validated)
    {
        _validated = validated;
        Writer = new Utf8JsonWriter(this, validated ? Checked : Unchecked);
    }

    /// <summary>The writer of the frame's body; valid between <see cref="Take"/> and <see cref="Give"/>.</summary>
    public Utf8JsonWriter Writer { get; }

    /// <summary>Serializes {"action", "request_id", ...fields} as a frame. The caller returns the array to the shared pool.</summary>
    public static (byte[] Array, int Length) BuildRequest(string action, string requestId, Action<Utf8JsonWriter>? writeFields)
    {
        FrameBuilder builder = Take();
        try
        {
            Utf8JsonWriter w = builder.Writer;
            w.WriteStartObject();
            w.WriteString("action"u8, action);
            w.WriteString("request_id"u8, requestId);
            writeFields?.Invoke(w);
            w.WriteEndObject();
            return builder.Detach();
        }
        finally
        {
            Give(builder);
        }
    }

    /// <summary>
    /// This thread's cached builder, taken out (not just read: a re-entrant caller gets a fresh one), with a pooled
    /// array of at least the header plus <paramref name="sizeHint"/> bytes. <paramref name="validate"/> false skips the
    /// writer's structure checks. Hand it back with <see cref="Give"/> in a finally.
    /// </summary>
    public static FrameBuilder Take(int sizeHint = InitialBytes, bool validate = true)
    {
        ref FrameBuilder? cached = ref validate ? ref t_checked : ref t_unchecked;
        FrameBuilder builder = cached ?? new FrameBuilder(validate);
        cached = null;
        builder._array = ArrayPool<byte>.Shared.Rent(Framing.HeaderSize + Math.Max(sizeHint, 1));
        builder._written = Framing.HeaderSize;   // the header is filled in once the body length is known
        return builder;
    }

    /// <summary>Resets the builder and caches it for this thread; an array not detached (a write threw) goes back to the pool.</summary>
    public static void Give(FrameBuilder builder)
    {
        builder.Writer.Reset();
        if (builder._array.Length > 0) ArrayPool<byte>.Shared.Return(builder._array);
        builder._array = [];
        builder._written = 0;
        if (builder._validated) t_checked = builder;
        else t_unchecked = builder;
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

    /// <summary>Flushes the writer, writes the header and hands over the array (the caller returns it to the shared pool).</summary>
    public (byte[] Array, int Length) Detach()
    {
        Writer.Flush();
        Framing.WriteHeader(_array, _written - Framing.HeaderSize);
        var result = (_array, _written);
        _array = [];
        _written = 0;
        return result;
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
