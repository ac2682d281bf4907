namespace QkChat.Core.Presence;

/// <summary>Device statuses, ordered from least to most present (protocol.md §8 ranking), so Max is the user's status.</summary>
public enum PresenceStatus : byte
{
    Offline = 0,
    Invisible = 1,
    Away = 2,
    Busy = 3,
    Online = 4,
}

public static class PresenceStatuses
{
    /// <summary>What friends see: invisible looks offline.</summary>
    public static PresenceStatus Visible(this PresenceStatus status) =>
        status == PresenceStatus.Invisible ? PresenceStatus.Offline : status;

    public static string Name(this PresenceStatus status) => status switch
    {
        PresenceStatus.Online => "online",
        PresenceStatus.Busy => "busy",
        PresenceStatus.Away => "away",
        PresenceStatus.Invisible => "invisible",
        _ => "offline",
    };

    /// <summary>The statuses a device may set with status_update (offline is what disconnecting does).</summary>
    public static PresenceStatus? ParseSettable(string? name) => name switch
    {
        "online" => PresenceStatus.Online,
        "busy" => PresenceStatus.Busy,
        "away" => PresenceStatus.Away,
        "invisible" => PresenceStatus.Invisible,
        _ => null,
    };
}
