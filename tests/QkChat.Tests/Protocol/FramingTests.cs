using QkChat.Protocol;
using Xunit;

namespace QkChat.Tests.Protocol;

public sealed class FramingTests
{
    [Fact]
    public void A_whole_frame_is_complete_and_a_prefix_of_it_is_incomplete()
    {
        byte[] frame = Framing.Encode("{\"a\":1}"u8);
        Assert.Equal(FrameStatus.Complete, Framing.TryDecode(frame, 100, out int length));
        Assert.Equal(7, length);
        for (int cut = 0; cut < frame.Length; cut++)
            Assert.Equal(FrameStatus.Incomplete, Framing.TryDecode(frame.AsSpan(0, cut), 100, out _));
    }

    [Fact]
    public void The_length_is_big_endian_and_checked_before_the_body_arrives()
    {
        Assert.Equal(FrameStatus.TooLarge, Framing.TryDecode([0, 0, 0, 101], 100, out _));
        Assert.Equal(FrameStatus.Incomplete, Framing.TryDecode([0, 0, 0, 100], 100, out _));
        Assert.Equal(FrameStatus.TooLarge, Framing.TryDecode([0xFF, 0xFF, 0xFF, 0xFF], 100, out _));
        Assert.Equal(FrameStatus.Empty, Framing.TryDecode([0, 0, 0, 0], 100, out _));
        Assert.Equal(FrameStatus.TooLarge, Framing.TryDecode([1, 0, 0, 0], 65_536, out _)); // 16 MiB, not 1
    }
}
