namespace QkChat.Transport;

/// <summary>
/// No bytes at all: <see cref="InMemoryConnection"/> hands input to the connection itself, and output stays queued
/// until the test or benchmark discards it. It never posts, so the connection's wait for input simply never ends.
/// </summary>
internal sealed class InMemoryStream : ConnectionStream
{
    private int _lastSendBytes;

    public override void Start(Connection owner)
    {
    }

    public override bool WaitForInput() => false;

    public override int Read(Span<byte> into, out ReadStatus status)
    {
        status = ReadStatus.WouldBlock;
        return 0;
    }

    /// <summary>Sent to nowhere, at once.</summary>
    public override bool StartSend(List<OutboundFrame> frames)
    {
        _lastSendBytes = 0;
        foreach (var frame in frames) _lastSendBytes += frame.WireLength;
        return false;
    }

    public override bool LastSendSucceeded => true;

    public override int LastSendBytes => _lastSendBytes;

    public override bool TryShutdownSend() => false;

    public override void Close()
    {
    }
}
