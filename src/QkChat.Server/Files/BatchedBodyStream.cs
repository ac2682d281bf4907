using System.IO.Pipelines;

namespace QkChat.Server.Files;

/// <summary>
/// A download's response body (docs/files.md, "Throughput"): ASP.NET Core's file result copies through a 64 KiB
/// buffer and Kestrel's own body stream flushes on every write, so a 100 MiB download was 1,600 flushes, each a
/// hand-off to the socket's sender and back. This writes each piece straight into Kestrel's PipeWriter (one copy,
/// into one segment the size of the piece) and flushes once per <see cref="FlushBytes"/>, at the end, or when the
/// caller flushes. The range logic, headers and status stay the framework's: only where the bytes go changes.
/// </summary>
internal sealed class BatchedBodyStream(PipeWriter writer) : Stream
{
    /// <summary>
    /// 1 MiB between flushes: 100 flushes per 100 MiB instead of 1,600; it is also what a download holds in Kestrel's
    /// output pipe at most beyond Kestrel's own 64 KiB (memory per download in flight).
    /// </summary>
    public const int FlushBytes = 1 << 20;

    private int _unflushed;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Put(buffer.Span);
        if (_unflushed >= FlushBytes) await FlushAsync(cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Put(buffer.AsSpan(offset, count));

    private void Put(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return;
        // One segment of at least the piece's size (Kestrel's pipe takes a larger one from the array pool): one copy.
        bytes.CopyTo(writer.GetSpan(bytes.Length));
        writer.Advance(bytes.Length);
        _unflushed += bytes.Length;
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        _unflushed = 0;
        var result = await writer.FlushAsync(cancellationToken);
        // The client went away: stop the copy as Kestrel's own body stream does.
        if (result.IsCanceled || result.IsCompleted) throw new OperationCanceledException("the response was aborted");
    }

    // Nothing to do synchronously: the pipe is flushed by FlushAsync or when the response completes.
    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
