namespace QkChat.Core.Dispatch;

/// <summary>
/// A feature's own state of each device, kept in the device's <see cref="Session"/> without Dispatch knowing its type
/// (architecture.md §6: per-feature session state lives with its feature). Made once at composition by
/// <see cref="Dispatcher.AddSlot{T}"/>, before the first connection opens; reading is an array index, no lookup and
/// no allocation. Which threads may write the state is the feature's rule (messaging: the device's reactor).
/// </summary>
public sealed class SessionSlot<T> where T : class
{
    private readonly int _index;

    internal SessionSlot(int index) => _index = index;

    /// <summary>The device's state in this slot, or null when the feature has set none.</summary>
    public T? Get(Session session) => (T?)session.Slots[_index];

    public void Set(Session session, T? value) => session.Slots[_index] = value;
}
