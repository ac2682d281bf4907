using System.Text;

namespace QkChat.Core.Dispatch;

/// <summary>Handles one action. Runs on the connection's reactor; anything slow must be handed off (issue 4 adds that path).</summary>
public delegate void ActionHandler(RequestContext context);

/// <summary>
/// Maps action names (UTF-8) to handlers. Lookup is a linear scan of a few dozen short byte strings, which beats
/// hashing for this size and allocates nothing; the pre-login allow list of protocol.md §4 lives here too.
/// </summary>
public sealed class ActionRouter
{
    private readonly List<Route> _routes = [];

    /// <param name="Index">Order of registration, from 0: the route's row in the request metrics (<see cref="RequestStats"/>).</param>
    public sealed record Route(byte[] Name, string NameText, bool AllowedBeforeLogin, ActionHandler Handler, int Index);

    public void Register(string action, bool allowedBeforeLogin, ActionHandler handler)
    {
        if (Find(Encoding.UTF8.GetBytes(action)) is not null) throw new InvalidOperationException($"action '{action}' registered twice");
        _routes.Add(new Route(Encoding.UTF8.GetBytes(action), action, allowedBeforeLogin, handler, _routes.Count));
    }

    public Route? Find(ReadOnlySpan<byte> action)
    {
        foreach (var route in _routes)
            if (action.SequenceEqual(route.Name)) return route;
        return null;
    }

    public IEnumerable<string> Actions => _routes.Select(r => r.NameText);

    /// <summary>Routes registered so far.</summary>
    public int Count => _routes.Count;

    /// <summary>The name of the route with <paramref name="index"/>.</summary>
    public string NameOf(int index) => _routes[index].NameText;
}
