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

    /// <summary>
    /// group.order_hold_ms: how long a node holds a group entry that came ahead of a missing lower seq before it reads the
    /// gap from MariaDB (docs/cluster.md, "Group order"). 500 ms: entries of one group written on two nodes reach a third
    /// a few milliseconds apart on an idle deployment and up to a route-sender round apart under load (tens of ms on the
    /// loaded test box); 500 ms leaves an order of magnitude, so MariaDB is read only for a pub/sub message really lost.
    /// </summary>
    public int OrderHoldMs { get; set; } = DefaultOrderHoldMs;

    public const int DefaultOrderHoldMs = 500;

    /// <summary>
    /// Group writers, groups sharded by id (<see cref="GroupWriters"/>). 2: a batch's time is MariaDB's statements (the
    /// writer's own fan-out and answers are a few ms of it) and writers take no row lock of each other's, so a second writer
    /// lets MariaDB run a second batch where it has a core for it; on the 2-core bench box 1 and 2 writers were within one
    /// run's spread (bench/RESULTS.md "Group chat on loopback" (b), "writers" and "profile"). Each writer holds one
    /// connection of the writers' pool (sized from this).
    /// </summary>
    public int Writers { get; set; } = 2;

    public GroupOptions Copy() => (GroupOptions)MemberwiseClone();
}
