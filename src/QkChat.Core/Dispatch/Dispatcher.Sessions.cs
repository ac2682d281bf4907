namespace QkChat.Core.Dispatch;

/// <summary>What features learn of sessions: sign-in, close, forced closes, and their own per-device state.</summary>
public sealed partial class Dispatcher
{
    private int _slots;
    private volatile bool _opened;

    /// <summary>
    /// A slot for a feature's own state of each device (<see cref="SessionSlot{T}"/>). At composition only: every
    /// session is made with room for the slots that exist when it opens.
    /// </summary>
    public SessionSlot<T> AddSlot<T>() where T : class
    {
        if (_opened) throw new InvalidOperationException("session slots are added at composition, before the first connection");
        return new SessionSlot<T>(_slots++);
    }

    /// <summary>Raised on the reactor when a connection closes (accounts unregister the device here).</summary>
    public event Action<Session>? SessionClosed;

    /// <summary>
    /// Raised on the reactor after a login or token resume has been answered: features mark the device online and
    /// push what waited for it (offline messages, friend notices), so those pushes follow the login response.
    /// </summary>
    public event Action<Session>? SignedIn;

    /// <summary>
    /// On the reactor, while a login answer is written: raises <see cref="SignedIn"/> in the next reactor step, queued
    /// behind the callback that writes the response, so what features push follows it.
    /// </summary>
    public void NotifySignedIn(Session session)
    {
        // The idle clock starts at the login (protocol.md §4): the login deadline set at the connect would otherwise
        // stand until the device's next frame, closing a silent device at the login timeout from its connect.
        session.Connection.SetDeadline(Environment.TickCount64 + (long)_options.IdleTimeout.TotalMilliseconds);
        session.Connection.Post(static (c, d) => ((Dispatcher)d!).SignedIn?.Invoke((Session)c.State!), this);
    }
}
