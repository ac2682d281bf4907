namespace QkChat.IntegrationTests.Infrastructure;

/// <summary>
/// The one way integration tests wait for state they cannot be told about (a metric, a Redis key, a row): poll with
/// a deadline, so a hang fails by name instead of stalling CI. Where the code under test can signal (a push, a
/// TaskCompletionSource), wait for the signal instead.
/// </summary>
public static class Wait
{
    /// <summary>Poll interval: short against the deadlines used here (seconds), long enough not to load a 2-core box.</summary>
    private const int PollMs = 25;

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>Waits until <paramref name="condition"/> holds; throws TimeoutException naming <paramref name="what"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Environment.TickCount64 + (long)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds;
        while (!await condition())
        {
            if (Environment.TickCount64 > deadline) throw new TimeoutException("not reached within the deadline: " + what);
            await Task.Delay(PollMs);
        }
    }

    /// <summary>Waits until <paramref name="read"/> gives a value that satisfies <paramref name="accept"/>, and returns it.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T>> read, Func<T, bool> accept, string what, TimeSpan? timeout = null)
    {
        T value = default!;
        await UntilAsync(async () => accept(value = await read()), what, timeout);
        return value;
    }
}
