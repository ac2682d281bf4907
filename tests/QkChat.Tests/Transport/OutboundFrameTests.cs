using QkChat.Transport;
using Xunit;

namespace QkChat.Tests.Transport;

public sealed class OutboundFrameTests
{
    [Fact]
    public void Writes_grow_the_buffer_and_keep_the_bytes()
    {
        var frame = OutboundFrame.Rent();
        var data = Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray();
        for (int i = 0; i < data.Length; i += 1000)
        {
            data.AsSpan(i, 1000).CopyTo(frame.GetSpan(1000));
            frame.Advance(1000);
        }
        Assert.Equal(data, frame.Memory.ToArray());
        frame.Release();
    }

    [Fact]
    public void A_fanned_out_frame_returns_to_the_pool_after_the_last_release_only()
    {
        var frame = OutboundFrame.Copy([1, 2, 3]);
        frame.AddReference().AddReference();
        frame.Release();
        frame.Release();
        Assert.Equal(3, frame.Length); // still alive for the last holder
        frame.Release();
        Assert.Equal(0, frame.Length);
        Assert.Throws<InvalidOperationException>(frame.Release);
    }
}
