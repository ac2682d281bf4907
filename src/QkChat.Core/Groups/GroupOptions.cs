namespace QkChat.Core.Groups;

/// <summary>
/// Group chat settings. The defaults written here are the server's: qkchatd's option registry binds group.* to
/// these properties, and the server hands a copy (<see cref="Copy"/>) to the group service.
/// </summary>
public sealed class GroupOptions
{
    /// <summary>protocol.md §9: a group holds up to 1,024 members unless configured otherwise.</summary>
    public int MaxMembers { get; set; } = 1024;

    /// <summary>protocol.md §9: a group name is 1-64 characters.</summary>
    public const int MaxNameChars = 64;

    /// <summary>protocol.md §9: add_group_members takes 1-100 user ids.</summary>
    public const int MaxAddIds = 100;

    public GroupOptions Copy() => (GroupOptions)MemberwiseClone();
}
