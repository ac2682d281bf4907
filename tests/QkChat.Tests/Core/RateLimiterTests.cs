using QkChat.Core.Dispatch;
using Xunit;

namespace QkChat.Tests.Core;

public sealed class RateLimiterTests
{
    [Fact]
    public void Allows_the_burst_then_the_rate_and_says_when_to_retry()
    {
        var limiter = new RateLimiter();
        limiter.Init(burst: 5, now: 0);
        for (int i = 0; i < 5; i++) Assert.True(limiter.TryTake(10, 5, 0, out _));
        Assert.False(limiter.TryTake(10, 5, 0, out int retry));
        Assert.Equal(100, retry);                           // 10 per second: one token every 100 ms
        Assert.True(limiter.TryTake(10, 5, 100, out _));
        Assert.False(limiter.TryTake(10, 5, 150, out retry));
        Assert.InRange(retry, 49, 51);
        Assert.True(limiter.TryTake(10, 5, 10_000, out _)); // refills, but never past the burst
        for (int i = 0; i < 4; i++) Assert.True(limiter.TryTake(10, 5, 10_000, out _));
        Assert.False(limiter.TryTake(10, 5, 10_000, out _));
    }
}
