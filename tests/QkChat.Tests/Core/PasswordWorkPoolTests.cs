using QkChat.Core.Accounts;
using Xunit;

namespace QkChat.Tests.Core;

public sealed class PasswordWorkPoolTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task Hashes_and_verifies_through_the_hasher()
    {
        using var pool = new PasswordWorkPool(new FakeHasher(), workers: 2, capacity: 8);
        Assert.True(pool.TryHash("secret-1", out var hash));
        Assert.Equal("h:secret-1", await hash.WaitAsync(Patience, Ct));
        Assert.True(pool.TryVerify("secret-1", "h:secret-1", out var match));
        Assert.True(pool.TryVerify("secret-1", "h:other", out var mismatch));
        Assert.True(pool.TryVerify("secret-1", "old:secret-1", out var stale));
        Assert.Equal(PasswordCheck.Match, await match.WaitAsync(Patience, Ct));
        Assert.Equal(PasswordCheck.Mismatch, await mismatch.WaitAsync(Patience, Ct));
        Assert.Equal(PasswordCheck.MatchNeedsRehash, await stale.WaitAsync(Patience, Ct));
        Assert.Equal(4, pool.Queued);
        await WaitUntil(() => pool.Completed == 4);
        Assert.Equal(0, pool.Rejected);
        Assert.Equal(0, pool.Depth);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_full_queue_refuses_at_once_and_the_rest_still_complete()
    {
        var hasher = new FakeHasher { Gate = new ManualResetEventSlim(false) };
        using var pool = new PasswordWorkPool(hasher, workers: 1, capacity: 2);
        Assert.True(pool.TryHash("running", out var running));
        await WaitUntil(() => pool.Running == 1);
        Assert.True(pool.TryHash("waiting-1", out var waiting1));
        Assert.True(pool.TryVerify("waiting-2", "h:waiting-2", out var waiting2));
        Assert.Equal(2, pool.Depth);

        // A refusal must not wait for room: the gate stays shut until after these return, so one that waited would
        // never return and the bounded wait below would fail (no clock bound on how fast it refuses).
        Task<string>? refused = null;
        Task<PasswordCheck>? refusedCheck = null;
        var refusals = Task.Run(() => (pool.TryHash("one too many", out refused), pool.TryVerify("one too many", "h:x", out refusedCheck)));
        Assert.Equal((false, false), await refusals.WaitAsync(Patience * 3, TestContext.Current.CancellationToken));
        Assert.True(refused!.IsCanceled);
        Assert.True(refusedCheck!.IsCanceled);
        Assert.Equal(2, pool.Rejected);
        Assert.Equal(3, pool.Queued);

        hasher.Gate.Set();
        Assert.Equal("h:running", await running.WaitAsync(Patience, Ct));
        Assert.Equal("h:waiting-1", await waiting1.WaitAsync(Patience, Ct));
        Assert.Equal(PasswordCheck.Match, await waiting2.WaitAsync(Patience, Ct));
        Assert.True(pool.TryHash("room again", out var again));
        Assert.Equal("h:room again", await again.WaitAsync(Patience, Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task Never_runs_more_hashes_at_once_than_it_has_workers()
    {
        var hasher = new FakeHasher { Gate = new ManualResetEventSlim(false) };
        using var pool = new PasswordWorkPool(hasher, workers: 3, capacity: 100);
        var tasks = new List<Task<string>>();
        for (int i = 0; i < 30; i++)
        {
            Assert.True(pool.TryHash("p" + i, out var task));
            tasks.Add(task);
        }
        await WaitUntil(() => hasher.Concurrent == 3);
        await Task.Delay(100, Ct); // room for a fourth to start, if the pool were wrong
        Assert.Equal(3, hasher.Concurrent);
        Assert.Equal(3, pool.Running);
        Assert.Equal(27, pool.Depth);

        hasher.Gate.Set();
        await Task.WhenAll(tasks).WaitAsync(Patience, Ct);
        Assert.Equal(3, hasher.MaxConcurrent);
        Assert.Equal(30, pool.Completed);
    }

    [Fact(Timeout = 60_000)]
    public async Task Dispose_finishes_what_was_queued_then_refuses()
    {
        var hasher = new FakeHasher { Delay = TimeSpan.FromMilliseconds(10) };
        var pool = new PasswordWorkPool(hasher, workers: 1, capacity: 10);
        var tasks = new List<Task<string>>();
        for (int i = 0; i < 10; i++)
        {
            Assert.True(pool.TryHash("p" + i, out var task));
            tasks.Add(task);
        }
        pool.Dispose();
        Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully));
        Assert.Equal(10, pool.Completed);
        Assert.False(pool.TryHash("late", out var late));
        Assert.True(late.IsCanceled);
        pool.Dispose(); // twice is fine
        Assert.Equal("h:p9", await tasks[^1]);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failing_hash_faults_its_task_and_the_worker_carries_on()
    {
        using var pool = new PasswordWorkPool(new FakeHasher(), workers: 1, capacity: 4);
        Assert.True(pool.TryHash("throw", out var failing));
        Assert.True(pool.TryHash("fine", out var fine));
        await Assert.ThrowsAsync<InsufficientMemoryException>(() => failing.WaitAsync(Patience, Ct));
        Assert.Equal("h:fine", await fine.WaitAsync(Patience, Ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task Awaiting_code_runs_off_the_hash_workers()
    {
        using var pool = new PasswordWorkPool(new FakeHasher(), workers: 1, capacity: 4);
        Assert.True(pool.TryHash("p", out var hash));
        string? thread = await hash.ContinueWith(_ => Thread.CurrentThread.Name, TaskContinuationOptions.ExecuteSynchronously)
            .WaitAsync(Patience, Ct);
        Assert.False(thread?.StartsWith("qkchat-pwhash", StringComparison.Ordinal) ?? false, $"continuation ran on {thread}");
    }

    [Fact]
    public void Defaults_follow_the_core_count_and_hash_now_runs_inline()
    {
        var hasher = new FakeHasher();
        using var pool = new PasswordWorkPool(hasher);
        Assert.Equal(Environment.ProcessorCount, pool.Workers);
        Assert.Equal(Environment.ProcessorCount * PasswordWorkPool.DefaultQueuePerWorker, pool.Capacity);
        Assert.Equal("h:dummy", pool.HashNow("dummy"));
        Assert.Equal(Environment.CurrentManagedThreadId, hasher.LastThreadId);
        Assert.Equal(0, pool.Queued);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PasswordWorkPool(hasher, workers: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PasswordWorkPool(hasher, capacity: -1));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(5, Ct);
        }
    }

    /// <summary>"h:" + password; a gate or a delay makes it slow; records how many run at once.</summary>
    private sealed class FakeHasher : IPasswordHasher
    {
        private int _concurrent;
        private int _maxConcurrent;

        public ManualResetEventSlim? Gate { get; init; }

        public TimeSpan Delay { get; init; }

        public int Concurrent => Volatile.Read(ref _concurrent);

        public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

        public int LastThreadId { get; private set; }

        public string Hash(string password)
        {
            Enter();
            try
            {
                if (password == "throw") throw new InsufficientMemoryException("fake");
                return "h:" + password;
            }
            finally
            {
                Interlocked.Decrement(ref _concurrent);
            }
        }

        public PasswordCheck Verify(string password, string encodedHash)
        {
            Enter();
            Interlocked.Decrement(ref _concurrent);
            return encodedHash == "h:" + password ? PasswordCheck.Match
                : encodedHash == "old:" + password ? PasswordCheck.MatchNeedsRehash
                : PasswordCheck.Mismatch;
        }

        private void Enter()
        {
            LastThreadId = Environment.CurrentManagedThreadId;
            int now = Interlocked.Increment(ref _concurrent);
            int max;
            while (now > (max = Volatile.Read(ref _maxConcurrent)) && Interlocked.CompareExchange(ref _maxConcurrent, now, max) != max)
            {
            }
            Gate?.Wait(Patience);
            if (Delay > TimeSpan.Zero) Thread.Sleep(Delay);
        }
    }
}
