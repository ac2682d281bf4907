using System.Buffers;
using System.Text;
using System.Text.Json;
using QkChat.Core.Messaging;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>search_messages' merged answer: direct messages and group entries newest first, the limit over both, the frame budget.</summary>
public sealed class SearchPageTests
{
    private static MessageRecord Direct(long id, string content = "hi") =>
        new(id, 100_000_001, 200_000_002, content, "text", 1_767_225_600_000, MessageStatus.Read, Recalled: false);

    private static GroupSearchHit Group(long id, string content = "hi") =>
        new(id, 300 + content.Length * 6, w =>
        {
            w.WriteNumber("group_id", 7);
            w.WriteNumber("message_id", id);
            w.WriteString("content", content);
        });

    private static (JsonElement Root, int Written) Write(IReadOnlyList<MessageRecord> direct, IReadOnlyList<GroupSearchHit> groups, int limit)
    {
        var buffer = new ArrayBufferWriter<byte>();
        int written;
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            written = SearchPage.Write(w, direct, groups, limit);
            w.WriteEndObject();
        }
        return (JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone(), written);
    }

    private static (string Kind, long Id)[] Results(JsonElement root) =>
        [.. root.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("kind").GetString()!, m.GetProperty("message_id").GetInt64()))];

    [Fact]
    public void Both_kinds_interleave_newest_first_and_the_limit_counts_them_together()
    {
        var (root, written) = Write([Direct(90), Direct(50), Direct(10)], [Group(70), Group(60), Group(5)], limit: 4);
        Assert.Equal(4, written);
        Assert.Equal([("direct", 90), ("group", 70), ("group", 60), ("direct", 50)], Results(root));
        Assert.True(root.GetProperty("has_more").GetBoolean());

        (root, _) = Write([Direct(3)], [Group(4)], limit: 2);
        Assert.Equal([("group", 4), ("direct", 3)], Results(root));
        Assert.False(root.GetProperty("has_more").GetBoolean());

        (root, _) = Write([], [], limit: 20);
        Assert.Empty(Results(root));
        Assert.False(root.GetProperty("has_more").GetBoolean());
    }

    [Fact]
    public void A_direct_result_is_the_message_object_with_kind_added_in_front()
    {
        var (root, _) = Write([Direct(90, "meet")], [], limit: 20);
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) MessageJson.Write(w, Direct(90, "meet"));
        string plain = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.Equal("{\"kind\":\"direct\"," + plain[1..], root.GetProperty("messages")[0].GetRawText());
    }

    [Fact]
    public void Long_results_stop_the_page_at_the_frame_budget_with_has_more_and_one_always_fits()
    {
        string big = new('x', 4000);
        var direct = Enumerable.Range(0, 50).Select(i => Direct(1000 - 2 * i, big)).ToList();
        var groups = Enumerable.Range(0, 50).Select(i => Group(999 - 2 * i, big)).ToList();
        var (root, written) = Write(direct, groups, limit: 100);
        Assert.InRange(written, 1, 99);
        Assert.True(root.GetProperty("has_more").GetBoolean());
        Assert.True(Encoding.UTF8.GetByteCount(root.GetRawText()) <= MessageJson.MaxPageBytes);
        Assert.Equal(written, Results(root).Length);
        Assert.Equal(Results(root).Select(r => r.Id).OrderDescending(), Results(root).Select(r => r.Id));
    }
}
