using System.Text.RegularExpressions;
using Xunit;

namespace QkChat.Tests.Architecture;

/// <summary>
/// Framing belongs to the listener (architecture.md §6): Transport splits and frames bytes with its codec and knows
/// no JSON; Core builds and reads message bodies only. This reads the source so that neither side can creep back.
/// </summary>
public sealed partial class FramingSeamTests
{
    // JSON in the transport: the serializer namespace, its writer and reader, or the Protocol project (which holds them).
    [GeneratedRegex(@"\bSystem\.Text\.Json\b|\bUtf8Json(Writer|Reader)\b|\bJsonSerializer\b|\bQkChat\.Protocol\b")]
    private static partial Regex JsonOrProtocol();

    // The wire's length prefix: Protocol's Framing (Encode, TryDecode, WriteHeader, HeaderSize) or the shared helper.
    [GeneratedRegex(@"\bFraming\s*\.|\bLengthPrefix\b|\bLengthPrefixCodec\b")]
    private static partial Regex LengthPrefixFraming();

    [Fact]
    public void Transport_source_names_no_json_and_no_protocol_type()
    {
        var offences = Offences(Path.Combine("src", "QkChat.Transport"), JsonOrProtocol());
        Assert.True(offences.Count == 0, "JSON or Protocol in the transport:\n" + string.Join('\n', offences));
    }

    [Fact]
    public void Core_builds_and_reads_bodies_only_and_never_frames_them()
    {
        var offences = Offences(Path.Combine("src", "QkChat.Core"), LengthPrefixFraming());
        Assert.True(offences.Count == 0, "framing in Core (the listener's codec frames; Core sees bodies):\n" + string.Join('\n', offences));
    }

    [Fact]
    public void The_regexes_catch_what_they_are_meant_to()
    {
        Assert.Matches(JsonOrProtocol(), "using System.Text.Json;");
        Assert.Matches(JsonOrProtocol(), "var w = new Utf8JsonWriter(frame);");
        Assert.Matches(LengthPrefixFraming(), "offset += Framing.HeaderSize + length;");
        Assert.Matches(LengthPrefixFraming(), "switch (Framing .TryDecode(rest, max, out int n))");
        Assert.DoesNotMatch(LengthPrefixFraming(), "var frame = Frames.Response(action);");
    }

    private static List<string> Offences(string project, Regex pattern)
    {
        string dir = Path.Combine(RepoPaths.Root, project);
        Assert.True(Directory.Exists(dir), dir);
        var offences = new List<string>();
        foreach (string file in Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(RepoPaths.Root, file);
            if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal)) continue;
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                if (pattern.IsMatch(StripComment(lines[i]))) offences.Add($"{relative}:{i + 1}: {lines[i].Trim()}");
            }
        }
        return offences;
    }

    /// <summary>A line without its // or /// comment (a remark may name the other side's types).</summary>
    private static string StripComment(string line)
    {
        int at = line.IndexOf("//", StringComparison.Ordinal);
        return at < 0 ? line : line[..at];
    }
}
