namespace QkChat.Core.Messaging;

/// <summary>
/// The message writer's settings. The defaults written here are the server's defaults: qkchatd's option registry
/// binds message.* and server.node_id to these properties, and the server hands a copy (<see cref="Copy"/>) to messaging.
/// </summary>
public sealed class MessagingOptions
{
    /// <summary>protocol.md §5: content is 1-4000 characters.</summary>
    public const int MaxContentChars = 4000;

    /// <summary>protocol.md §5: recall within 120 s of the message's timestamp.</summary>
    public static readonly TimeSpan RecallWindow = TimeSpan.FromSeconds(120);

    /// <summary>protocol.md §6: offline batches hold at most 100 messages.</summary>
    public const int OfflineBatch = 100;

    /// <summary>Most messages in one multi-row INSERT (see MessageWriter for the derivation of the default).</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How long the writer waits for more messages before writing a partial batch; 0 = write what is there.</summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Message batches stored at once, each in its own transaction on its own connection (message.writers): a batch
    /// does not wait for the previous batch's fsync. Answers and pushes still go out in id order (MessageWriter).
    /// </summary>
    public int Writers { get; set; } = 4;

    /// <summary>Messages waiting to be written before send_message answers SERVER_BUSY.</summary>
    public int QueueCapacity { get; set; } = 100_000;

    /// <summary>The node's number in message ids (0-15).</summary>
    public int NodeId { get; set; }

    public MessagingOptions Copy() => (MessagingOptions)MemberwiseClone();
}
