using System.Text;
using Microsoft.Extensions.ObjectPool;
using QkChat.Core.Files;

namespace QkChat.Core.Messaging;

/// <summary>
/// A message to store; <see cref="ClientMsgId"/> makes a retry idempotent per sender. Its content and client_msg_id are
/// UTF-8, as they came in the frame and as MariaDB and the `message` push take them, so the send path makes no string of
/// them (issue 22).
/// </summary>
/// <remarks>
/// Ownership (docs/architecture.md, "The send path's buffers"): a message of the send path is rented
/// (<see cref="Rent"/>) and holds its bytes in a buffer of its own that goes back to the pool with it. It is reference
/// counted: the send that rented it holds one reference until its sender is answered, and the search indexer takes
/// another (<see cref="AddReference"/>) for as long as the message waits to be indexed. Whoever drops the last
/// reference (<see cref="Release"/>) returns it; nothing may read it after its own release, and a reader that keeps the
/// content longer copies it. A message built with the public constructor (read back from MariaDB, tests) is not pooled:
/// its references are not counted and releasing it does nothing.
/// </remarks>
public sealed class NewMessage
{
    /// <summary>
    /// Messages the pool keeps for reuse. More in flight at once (a burst the writer has not caught up with, a search
    /// indexer far behind) are allocated and left to the GC; 8,192 covers 16 batches of the writer's 500 plus what the
    /// indexer holds between its 100 ms batches at 50,000 messages/s (issue 22's target), at a few hundred bytes each (about 2 MB).
    /// </summary>
    public const int PoolSize = 8192;

    /// <summary>A returned message keeps a buffer up to this size (a chat line is far smaller); a larger one is dropped, so
    /// that a few 4,000-character messages do not pin 16 KB in every pooled message.</summary>
    private const int KeptBufferBytes = 1024;

    private static readonly ObjectPool<NewMessage> Pool = new DefaultObjectPool<NewMessage>(new Policy(), PoolSize);

    private byte[] _buffer;
    private int _contentLength, _clientMsgIdLength;
    private int _references;
    private readonly bool _pooled;

    private NewMessage(bool pooled)
    {
        _pooled = pooled;
        // Sized at first use: a message allocated past the pool's size (a long indexer backlog) costs its bytes only.
        _buffer = [];
        _clientMsgIdLength = -1;
        Type = MessageTypes.Text;
    }

    /// <summary>A message that is not pooled (read back from MariaDB, tests): its strings are encoded once here.</summary>
    public NewMessage(long messageId, uint senderId, uint receiverId, string? clientMsgId, string type, string content, long timestamp,
        StoredFile? file = null) : this(pooled: false)
    {
        MessageId = messageId;
        SenderId = senderId;
        ReceiverId = receiverId;
        Type = type;
        Timestamp = timestamp;
        File = file;
        int contentBytes = Encoding.UTF8.GetByteCount(content);
        _buffer = new byte[contentBytes + (clientMsgId is null ? 0 : Encoding.UTF8.GetByteCount(clientMsgId))];
        _contentLength = Encoding.UTF8.GetBytes(content, _buffer);
        _clientMsgIdLength = clientMsgId is null ? -1 : Encoding.UTF8.GetBytes(clientMsgId, _buffer.AsSpan(contentBytes));
    }

    public long MessageId { get; internal set; }
    public uint SenderId { get; internal set; }
    public uint ReceiverId { get; internal set; }

    /// <summary><see cref="MessageTypes.Text"/> or <see cref="MessageTypes.File"/>.</summary>
    public string Type { get; internal set; }
    public long Timestamp { get; internal set; }

    /// <summary>The file a `file` message carries (null for text).</summary>
    public StoredFile? File { get; internal set; }

    /// <summary>The content, UTF-8 (valid: the dispatcher refused any frame that is not).</summary>
    public ReadOnlyMemory<byte> Content => _buffer.AsMemory(0, _contentLength);

    /// <summary>The sender's client_msg_id, UTF-8; empty when <see cref="HasClientMsgId"/> is false.</summary>
    public ReadOnlyMemory<byte> ClientMsgId => _clientMsgIdLength < 0 ? default : _buffer.AsMemory(_contentLength, _clientMsgIdLength);

    public bool HasClientMsgId => _clientMsgIdLength >= 0;

    /// <summary>The content as a string: allocates, for readers off the send path (search terms, tests).</summary>
    public string ContentText() => Encoding.UTF8.GetString(Content.Span);

    /// <summary>The client_msg_id as a string, or null: allocates, for the store's read-back of duplicates.</summary>
    public string? ClientMsgIdText() => HasClientMsgId ? Encoding.UTF8.GetString(ClientMsgId.Span) : null;

    /// <summary>A pooled message with one reference (the caller's), no content and no client_msg_id.</summary>
    public static NewMessage Rent()
    {
        var message = Pool.Get();
        message._references = 1;
        return message;
    }

    /// <summary>
    /// Room for <paramref name="bytes"/> of content at the start of the buffer (grown when needed, keeping nothing):
    /// write the content there, then <see cref="SetContentLength"/>. For the owner, before anyone else sees it.
    /// </summary>
    internal Span<byte> ContentBuffer(int bytes)
    {
        if (_buffer.Length < bytes) _buffer = new byte[Math.Max(Math.Max(bytes, 64), _buffer.Length * 2)];
        _clientMsgIdLength = -1;
        return _buffer.AsSpan(0, bytes);
    }

    internal void SetContentLength(int bytes) => _contentLength = bytes;

    /// <summary>Room for the client_msg_id behind the content (set the content first); then <see cref="SetClientMsgIdLength"/>.</summary>
    internal Span<byte> ClientMsgIdBuffer(int bytes)
    {
        int needed = _contentLength + bytes;
        if (_buffer.Length < needed)
        {
            var grown = new byte[Math.Max(needed, _buffer.Length * 2)];
            _buffer.AsSpan(0, _contentLength).CopyTo(grown);
            _buffer = grown;
        }
        return _buffer.AsSpan(_contentLength, bytes);
    }

    internal void SetClientMsgIdLength(int bytes) => _clientMsgIdLength = bytes;

    /// <summary>Sets the content and client_msg_id from strings (the send path's rare slow reader).</summary>
    internal void SetText(string content, string? clientMsgId)
    {
        int length = Encoding.UTF8.GetBytes(content, ContentBuffer(Encoding.UTF8.GetByteCount(content)));
        SetContentLength(length);
        if (clientMsgId is not null)
            SetClientMsgIdLength(Encoding.UTF8.GetBytes(clientMsgId, ClientMsgIdBuffer(Encoding.UTF8.GetByteCount(clientMsgId))));
    }

    /// <summary>Another holder (the search indexer) keeps the message until its own <see cref="Release"/>.</summary>
    public void AddReference()
    {
        if (_pooled) Interlocked.Increment(ref _references);
    }

    /// <summary>Drops one reference; the last one returns a pooled message (do not touch it afterwards).</summary>
    public void Release()
    {
        if (!_pooled) return;
        int left = Interlocked.Decrement(ref _references);
        if (left == 0) Pool.Return(this);
        else if (left < 0) throw new InvalidOperationException($"message {MessageId} released more often than referenced");
    }

    private sealed class Policy : IPooledObjectPolicy<NewMessage>
    {
        public NewMessage Create() => new(pooled: true);

        public bool Return(NewMessage message)
        {
            message.File = null;
            message.Type = MessageTypes.Text;
            message._contentLength = 0;
            message._clientMsgIdLength = -1;
            if (message._buffer.Length > KeptBufferBytes) message._buffer = [];
            return true;
        }
    }
}
