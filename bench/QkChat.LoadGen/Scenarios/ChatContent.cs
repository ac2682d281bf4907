using System.Globalization;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// The chat scenario's message content: "lg:RUN:SENT_US:" then 'x' padding to the asked length. RUN is the run's
/// start (Unix ms, the same in every process of a run), SENT_US the sender's send time in Unix microseconds on the
/// run clock. The `message` push carries the content but not the client_msg_id, so the content is what lets the
/// receiver time the delivery, and tell this run's messages from older ones (offline leftovers of an earlier run).
/// </summary>
public static class ChatContent
{
    private const string Prefix = "lg:";

    /// <summary>Room for the header: "lg:" + 13-digit run + ':' + 16-digit micros + ':' is 35 characters.</summary>
    public const int MinBytes = 40;

    /// <summary>protocol.md §5: content is 1-4000 characters; ASCII keeps bytes and characters equal.</summary>
    public const int MaxBytes = 4000;

    public static string Build(long runId, long sentUnixMicros, int bytes)
    {
        string head = string.Create(CultureInfo.InvariantCulture, $"{Prefix}{runId}:{sentUnixMicros}:");
        return head.Length >= bytes ? head : head + new string('x', bytes - head.Length);
    }

    /// <summary>The same content as <see cref="Build"/>, as UTF-8 into <paramref name="destination"/> (at least
    /// max(<paramref name="bytes"/>, <see cref="MinBytes"/>) long); returns its length. No string: the chat scenario
    /// writes one per message.</summary>
    public static int WriteUtf8(Span<byte> destination, long runId, long sentUnixMicros, int bytes)
    {
        "lg:"u8.CopyTo(destination);
        int n = 3;
        System.Buffers.Text.Utf8Formatter.TryFormat(runId, destination[n..], out int used);
        n += used;
        destination[n++] = (byte)':';
        System.Buffers.Text.Utf8Formatter.TryFormat(sentUnixMicros, destination[n..], out used);
        n += used;
        destination[n++] = (byte)':';
        if (n >= bytes) return n;
        destination[n..bytes].Fill((byte)'x');
        return bytes;
    }

    /// <summary>The header from the raw UTF-8 of a JSON string (quotes included or not), without making a string: the
    /// group scenario reads tens of thousands of pushes a second.</summary>
    public static bool TryParseUtf8(ReadOnlySpan<byte> raw, out long runId, out long sentUnixMicros)
    {
        runId = sentUnixMicros = 0;
        if (raw.Length > 0 && raw[0] == (byte)'"') raw = raw[1..];
        if (!raw.StartsWith("lg:"u8)) return false;
        raw = raw[3..];
        int colon = raw.IndexOf((byte)':');
        if (colon <= 0 || !Digits(raw[..colon], out runId)) return false;
        raw = raw[(colon + 1)..];
        colon = raw.IndexOf((byte)':');
        return colon > 0 && Digits(raw[..colon], out sentUnixMicros);
    }

    /// <summary>Only ASCII digits (no sign, no spaces), as <see cref="TryParse"/> accepts them.</summary>
    private static bool Digits(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        return !text.ContainsAnyExceptInRange((byte)'0', (byte)'9')
            && System.Buffers.Text.Utf8Parser.TryParse(text, out value, out int used) && used == text.Length;
    }

    /// <summary>Reads the header back; false for content this scenario did not write.</summary>
    public static bool TryParse(ReadOnlySpan<char> content, out long runId, out long sentUnixMicros)
    {
        runId = sentUnixMicros = 0;
        if (!content.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        ReadOnlySpan<char> rest = content[Prefix.Length..];
        int colon = rest.IndexOf(':');
        if (colon <= 0 || !long.TryParse(rest[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out runId)) return false;
        rest = rest[(colon + 1)..];
        colon = rest.IndexOf(':');
        return colon > 0 && long.TryParse(rest[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out sentUnixMicros);
    }
}
