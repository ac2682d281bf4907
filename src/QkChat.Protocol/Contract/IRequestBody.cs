using System.Text.Json.Serialization.Metadata;

namespace QkChat.Protocol;

/// <summary>
/// A request's fields beside "action" and "request_id" (protocol.md §2): the server parses a body into it, a client
/// serializes one. <see cref="Json"/> is the source-generated (AOT-safe) type information both sides use.
/// </summary>
public interface IRequestBody<TSelf> where TSelf : class, IRequestBody<TSelf>
{
    static abstract JsonTypeInfo<TSelf> Json { get; }
}
