namespace QkChat.Core.Presence;

/// <summary>What others may see of a user's presence (protocol.md §5 Presence, §8 ranking).</summary>
public interface IPresenceView
{
    /// <summary>`online`, `busy`, `away` or `offline`: the most present device, with `invisible` shown as `offline`.</summary>
    string VisibleStatus(uint userId);

    /// <summary>Unix ms when the user was last seen online, or null when they never were (or it is not known here).</summary>
    long? LastSeen(uint userId);
}
