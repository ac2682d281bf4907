using System.Globalization;
using QkChat.Protocol;

namespace QkChat.LoadGen.Options;

/// <summary>
/// The mixed scenario's blend: relative weights of the actions a user draws, one per step. Acknowledgements are not
/// in it: every received message is acknowledged, as a real client does, so acks follow the sends.
/// </summary>
public sealed record MixWeights(int Send, int Read, int History, int Conversations, int Presence, int Heartbeat)
{
    /// <summary>
    /// A user of a chat app mostly writes (60 %); opening a conversation marks it read (10 %) and loads a history
    /// page (10 %); the chat list is refreshed now and then (5 %), the status changes rarely (5 %), and an idle
    /// client heartbeats (10 %). Sends dominate, as in the chat scenario, with every other kind of request present.
    /// </summary>
    public static readonly MixWeights Default = new(Send: 60, Read: 10, History: 10, Conversations: 5, Presence: 5, Heartbeat: 10);

    /// <summary>The names --mix accepts, and the protocol action each one sends.</summary>
    public static readonly (string Name, string Action)[] Names =
    [
        ("send", Actions.SendMessage), ("read", Actions.MarkRead), ("history", Actions.GetChatHistory),
        ("conversations", Actions.GetConversations), ("presence", Actions.StatusUpdate), ("heartbeat", Actions.Heartbeat),
    ];

    public int Total => Send + Read + History + Conversations + Presence + Heartbeat;

    /// <summary>The weight of name <paramref name="i"/> of <see cref="Names"/>.</summary>
    public int this[int i] => i switch
    {
        0 => Send,
        1 => Read,
        2 => History,
        3 => Conversations,
        4 => Presence,
        5 => Heartbeat,
        _ => throw new ArgumentOutOfRangeException(nameof(i)),
    };

    /// <summary>Index into <see cref="Names"/> for a draw <paramref name="roll"/> in [0, Total).</summary>
    public int Pick(int roll)
    {
        for (int i = 0; i < Names.Length; i++)
        {
            if (roll < this[i]) return i;
            roll -= this[i];
        }
        throw new ArgumentOutOfRangeException(nameof(roll));
    }

    /// <summary>"send=60,read=10,...": the whole blend; a name left out weighs 0.</summary>
    public static MixWeights Parse(string text)
    {
        var w = new int[Names.Length];
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            string name = eq < 0 ? part : part[..eq];
            int i = Array.FindIndex(Names, n => n.Name == name);
            if (i < 0) throw new FormatException($"unknown action '{name}' (known: {string.Join(", ", Names.Select(n => n.Name))})");
            if (eq < 0 || !int.TryParse(part.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int weight) || weight > 1000)
                throw new FormatException($"'{part}' is not NAME=WEIGHT with a weight of 0-1000");
            w[i] = weight;
        }
        var mix = new MixWeights(w[0], w[1], w[2], w[3], w[4], w[5]);
        // The scenario's accounting (losses, order, delivery latency) is about messages: without sends it has
        // nothing to check and the run could not fail.
        if (mix.Send == 0) throw new FormatException("the blend needs send above 0");
        return mix;
    }

    public override string ToString() =>
        string.Join(",", Names.Select((n, i) => string.Create(CultureInfo.InvariantCulture, $"{n.Name}={this[i]}")));
}
