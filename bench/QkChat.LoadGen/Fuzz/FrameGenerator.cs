using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using QkChat.Protocol;

namespace QkChat.LoadGen.Fuzz;

/// <summary>
/// What one fuzz step writes: <see cref="Writes"/> go out as separate socket writes (a half frame is two);
/// <see cref="MayClose"/> when the server is entitled to close (a zero or oversize length, a desynchronised stream,
/// logout); <see cref="Desyncs"/> when the stream no longer splits into the frames we meant, so the connection
/// must be dropped by us afterwards.
/// </summary>
public sealed record FuzzCase(string Class, byte[][] Writes, bool MayClose, bool Desyncs, int Frames = 1);

/// <summary>
/// Seeded hostile frames over every action (<see cref="FuzzActions"/>): valid requests, mutations of them, type
/// swaps, broken UTF-8 and escapes, deep nesting, random bytes, huge strings, pipelines, half frames and length
/// prefix games. The same seed gives the same cases, so a finding is reproduced by its seed and case number.
/// </summary>
public sealed class FrameGenerator(int seed, IReadOnlyList<long> knownIds, int maxFrameBytes = 65_536)
{
    private static readonly string[] Classes =
        ["valid", "mutated", "type-swap", "broken-utf8", "broken-escape", "deep", "random", "huge", "pipeline", "half-frame", "length-game"];

    private static readonly string[] WrongValues =
        ["true", "false", "0", "-1", "1.5", "1e308", "-0", "99999999999999999999999", "[]", "{}", "null", "\"\"", "\"7\"",
         "[1,2,3]", "{\"a\":[{}]}", "[null]", "\"\\u0000\"", "\"\\ud800\"", "9007199254740993"];

    private static readonly string[] Escapes =
        ["\\ud800", "\\udc00", "\\udbff\\u0041", "\\u00", "\\uZZZZ", "\\x41", "\\", "\\u0000", "\\ud83d\\ude00", "\\/", "\\\""];

    private readonly Random _random = new(seed);

    public static IReadOnlyList<string> ClassNames => Classes;

    public FuzzCase Next()
    {
        string kind = Classes[_random.Next(Classes.Length)];
        return kind switch
        {
            "pipeline" => Pipeline(),
            "half-frame" => HalfFrame(),
            "length-game" => LengthGame(),
            _ => Single(kind),
        };
    }

    private FuzzCase Single(string kind)
    {
        var (body, action) = Body(kind);
        return new FuzzCase(kind, [Frame(body)], MayClose: action == Actions.Logout, Desyncs: false);
    }

    private (byte[] Body, string Action) Body(string kind)
    {
        var action = FuzzActions.All[_random.Next(FuzzActions.All.Length)];
        return kind switch
        {
            "valid" => (Utf8(Valid(action)), action.Name),
            "mutated" => (Mutate(Utf8(Valid(action))), action.Name),
            "type-swap" => (Utf8(TypeSwap(action)), action.Name),
            "broken-utf8" => (BrokenUtf8(Utf8(Valid(action))), action.Name),
            "broken-escape" => (Utf8(BrokenEscape(action)), action.Name),
            "deep" => (Utf8(Deep(action)), action.Name),
            "random" => (RandomBytes(_random.Next(1, 200)), ""),
            _ => (Utf8(Huge(action)), action.Name),
        };
    }

    private string Valid(FuzzAction action)
    {
        var json = new StringBuilder("{\"action\":\"").Append(action.Name).Append("\",\"request_id\":\"f").Append(_random.Next()).Append('"');
        foreach (var field in action.Fields)
        {
            if (_random.Next(5) == 0) continue;   // optional or missing: both are answered
            json.Append(",\"").Append(field.Name).Append("\":").Append(Value(field));
        }
        return json.Append('}').ToString();
    }

    private string TypeSwap(FuzzAction action)
    {
        string json = Valid(action);
        if (action.Fields.Length == 0) return json[..^1] + ",\"client_id\":" + Pick(WrongValues) + "}";
        var field = action.Fields[_random.Next(action.Fields.Length)];
        return json[..^1] + ",\"" + field.Name + "\":" + Pick(WrongValues) + "}";   // a repeated name: the last one counts
    }

    private string BrokenEscape(FuzzAction action)
    {
        string json = Valid(action);
        int at = json.IndexOf('"', _random.Next(json.Length));
        return at < 0 ? json + Pick(Escapes) : json.Insert(at + 1, Pick(Escapes));
    }

    private string Deep(FuzzAction action)
    {
        int depth = _random.Next(1, 200);
        string open = _random.Next(2) == 0 ? "[" : "{\"d\":", close = open == "[" ? "]" : "}";
        return Valid(action)[..^1] + ",\"deep\":" + Repeat(open, depth) + "1" + Repeat(close, depth) + "}";
    }

    private string Huge(FuzzAction action)
    {
        var field = action.Fields.Length > 0 ? action.Fields[_random.Next(action.Fields.Length)].Name : "content";
        int length = _random.Next(1, maxFrameBytes - 2_000);   // the rest of the request stays under 2,000 bytes
        return Valid(action)[..^1] + ",\"" + field + "\":\"" + new string((char)('a' + _random.Next(26)), length) + "\"}";
    }

    private FuzzCase Pipeline()
    {
        int count = _random.Next(2, 20);
        var all = new List<byte>();
        bool mayClose = false;
        for (int i = 0; i < count; i++)
        {
            var (body, action) = Body(Classes[_random.Next(8)]);
            mayClose |= action == Actions.Logout;
            all.AddRange(Frame(body));
        }
        return new FuzzCase("pipeline", [[.. all]], mayClose, Desyncs: false, count);
    }

    private FuzzCase HalfFrame()
    {
        var (body, action) = Body(Classes[_random.Next(8)]);
        byte[] frame = Frame(body);
        int cut = _random.Next(1, frame.Length);
        return new FuzzCase("half-frame", [frame[..cut], frame[cut..]], action == Actions.Logout, Desyncs: false);
    }

    /// <summary>Zero, oversize, short or long declared lengths: the server closes or waits for bytes that never come.</summary>
    private FuzzCase LengthGame()
    {
        var (body, _) = Body("valid");
        var header = new byte[4];
        uint declared = _random.Next(4) switch
        {
            0 => 0,
            1 => (uint)maxFrameBytes + (uint)_random.Next(1, int.MaxValue),
            2 => (uint)Math.Max(1, body.Length - _random.Next(1, body.Length + 1)),
            _ => (uint)(body.Length + _random.Next(1, 100)),
        };
        BinaryPrimitives.WriteUInt32BigEndian(header, declared);
        return new FuzzCase("length-game", [[.. header, .. body]], MayClose: true, Desyncs: true);
    }

    private string Value(FuzzField field) => field.Kind switch
    {
        FieldKind.Text => Text(field.Name),
        FieldKind.Integer => Integer(field.Name),
        FieldKind.Boolean => _random.Next(2) == 0 ? "true" : "false",
        FieldKind.IntegerArray => "[" + string.Join(',', Enumerable.Range(0, _random.Next(0, 30)).Select(_ => Integer("message_id"))) + "]",
        _ => _random.Next(2) == 0 ? Integer("user_id") : Text("user_identifier"),
    };

    private string Text(string name)
    {
        string text = (name, _random.Next(6)) switch
        {
            ("status", < 4) => Pick(["online", "busy", "away", "invisible"]),
            ("type", < 4) => Pick(["text", VerificationCodeTypes.Register, VerificationCodeTypes.ResetPassword, "image"]),
            ("email", < 4) => $"fuzz{_random.Next(1000)}@example.org",
            (_, 0) => "",
            (_, 1) => "好😀 \u0000\t\"\\",
            (_, 2) => new string('x', _random.Next(60, 300)),
            _ => "fz" + _random.Next(),
        };
        return JsonSerializer.Serialize(text, FuzzJsonContext.Default.String);
    }

    private string Integer(string name) => _random.Next(6) switch
    {
        0 when knownIds.Count > 0 => knownIds[_random.Next(knownIds.Count)].ToString(),
        1 => Pick(["0", "-1", "1", "2147483648", "9007199254740992", "9223372036854775807"]),
        2 => _random.Next(100_000_000, 1_000_000_000).ToString(),
        3 when name is "limit" or "offset" => _random.Next(-5, 600).ToString(),
        _ => _random.NextInt64(1, 1L << 53).ToString(),
    };

    private byte[] Mutate(byte[] body)
    {
        var bytes = new List<byte>(body);
        for (int i = _random.Next(1, 6); i > 0 && bytes.Count > 0; i--)
        {
            int at = _random.Next(bytes.Count);
            switch (_random.Next(5))
            {
                case 0: bytes[at] = (byte)_random.Next(256); break;
                case 1: bytes.RemoveAt(at); break;
                case 2: bytes.Insert(at, Pick("{}[]\",:\\0-.eE"u8.ToArray())); break;
                case 3: bytes.RemoveRange(at, bytes.Count - at); break;   // truncated
                default: bytes.InsertRange(at, bytes.GetRange(at, Math.Min(bytes.Count - at, _random.Next(1, 20)))); break;
            }
        }
        return bytes.Count == 0 ? [(byte)'{'] : [.. bytes];
    }

    private byte[] BrokenUtf8(byte[] body)
    {
        byte[][] bad = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]];
        int at = Array.IndexOf(body, (byte)'"', _random.Next(body.Length));
        at = at < 0 ? body.Length : at + 1;
        return [.. body[..at], .. Pick(bad), .. body[at..]];
    }

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private T Pick<T>(T[] items) => items[_random.Next(items.Length)];

    private static string Repeat(string s, int count) => new StringBuilder(s.Length * count).Insert(0, s, count).ToString();

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Frame(byte[] body)
    {
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>A case's bytes as a reader can paste them back: escaped where not printable ASCII.</summary>
    public static string Show(FuzzCase c, int max = 600)
    {
        var text = new StringBuilder();
        foreach (byte b in c.Writes.SelectMany(w => w))
        {
            if (text.Length >= max) return text.Append("...").ToString();
            text.Append(b is >= 0x20 and < 0x7F and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:X2}");
        }
        return text.ToString();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class FuzzJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
