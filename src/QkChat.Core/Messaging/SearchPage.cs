using System.Text.Json;

namespace QkChat.Core.Messaging;

/// <summary>
/// The answer of search_messages: direct messages and group entries in one list, newest (largest message id, one id
/// space) first, each with `kind` (`direct`: the message object of §5; `group`: the group entry of §9), at most
/// `limit` in all and within the frame budget (<see cref="MessageJson.MaxPageBytes"/>), and `has_more`.
/// </summary>
public static class SearchPage
{
    // "kind":"direct", plus the comma: the bytes a result adds to the bounds of MessageJson and GroupJson.
    private const int KindBytes = 20;

    /// <param name="direct">Newest first (up to limit + 1: one more says there is more).</param>
    /// <param name="groups">Newest first (up to limit + 1, likewise).</param>
    /// <returns>How many results were written.</returns>
    public static int Write(Utf8JsonWriter w, IReadOnlyList<MessageRecord> direct, IReadOnlyList<GroupSearchHit> groups, int limit)
    {
        int d = 0, g = 0, written = 0;
        w.WriteStartArray("messages"u8);
        while (written < limit && (d < direct.Count || g < groups.Count))
        {
            bool group = g < groups.Count && (d == direct.Count || groups[g].MessageId > direct[d].MessageId);
            int bound = KindBytes + (group ? groups[g].Bytes : MessageJson.UpperBound(direct[d]));
            // One result always fits (a 4,000-character message is at most 24 KB); a later page is the caller's next search.
            if (written > 0 && w.BytesCommitted + w.BytesPending + bound > MessageJson.MaxPageBytes) break;
            w.WriteStartObject();
            if (group)
            {
                w.WriteString("kind"u8, "group"u8);
                groups[g++].WriteMembers(w);
            }
            else
            {
                w.WriteString("kind"u8, "direct"u8);
                MessageJson.WriteMembers(w, direct[d++]);
            }
            w.WriteEndObject();
            written++;
        }
        w.WriteEndArray();
        w.WriteBoolean("has_more"u8, written < direct.Count + groups.Count);
        return written;
    }
}
