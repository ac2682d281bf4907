namespace QkChat.Core.Accounts;

/// <summary>
/// Runs password hashing on its own dedicated threads behind a bounded queue. A hash costs tens of milliseconds
/// of CPU (docs/passwords.md), so on a reactor it would stall every connection there, and on the thread pool a
/// login storm would take all its threads from database and Redis continuations. Here a storm can only fill the
/// queue: then TryHash/TryVerify return false at once and the caller answers SERVER_BUSY (protocol.md §3).
/// </summary>
public sealed class PasswordWorkPool : IDisposable
{
    /// <summary>
    /// Waiting requests per worker when no capacity is given. At the measured ~17 ms per default hash
    /// (docs/passwords.md), 64 queued per worker is about 1.1 s before the last one starts: a login still answers
    /// well inside a client's usual request timeout, and a deeper queue would only trade SERVER_BUSY for timeouts.
    /// </summary>
    public const int DefaultQueuePerWorker = 64;

    // What a refused caller gets instead of null: already cancelled, so an accidental await ends at once.
    private static readonly Task<string> RejectedHash = Task.FromCanceled<string>(new CancellationToken(true));
    private static readonly Task<PasswordCheck> RejectedCheck = Task.FromCanceled<PasswordCheck>(new CancellationToken(true));

    private readonly IPasswordHasher _hasher;
    private readonly Queue<WorkItem> _queue;
    private readonly Thread[] _threads;
    // A plain object, not System.Threading.Lock: the workers sleep on it with Monitor.Wait.
    private readonly object _lock = new();
    private bool _closing;
    private long _queued;
    private long _completed;
    private long _rejected;
    private int _busy;

    /// <param name="hasher">The slow hash; called from the worker threads only.</param>
    /// <param name="workers">Dedicated threads; 0 means <see cref="Environment.ProcessorCount"/>, since hashing is
    /// pure CPU and more threads than cores would only add switching.</param>
    /// <param name="capacity">Requests that may wait (not counting the ones running); 0 means
    /// workers x <see cref="DefaultQueuePerWorker"/>.</param>
    /// <param name="workerStart">Runs first on each worker thread (the server lowers the thread's scheduling
    /// priority there, so reactors preempt hashing during a login storm).</param>
    public PasswordWorkPool(IPasswordHasher hasher, int workers = 0, int capacity = 0, Action? workerStart = null)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        ArgumentOutOfRangeException.ThrowIfNegative(workers);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _hasher = hasher;
        Workers = workers == 0 ? Environment.ProcessorCount : workers;
        Capacity = capacity == 0 ? Workers * DefaultQueuePerWorker : capacity;
        // Grows on demand: a large configured capacity should not be allocated up front.
        _queue = new Queue<WorkItem>(Math.Min(Capacity, 1024));
        _threads = new Thread[Workers];
        for (int i = 0; i < Workers; i++)
        {
            // Background: a pool that was never disposed must not keep the process alive.
            _threads[i] = new Thread(() => { workerStart?.Invoke(); Work(); }) { IsBackground = true, Name = $"qkchat-pwhash-{i}" };
            _threads[i].Start();
        }
    }

    public int Workers { get; }

    public int Capacity { get; }

    /// <summary>Requests accepted since start.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Requests finished since start (a hasher exception counts: its task is faulted).</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Requests turned away because the queue was full or the pool was closing.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Requests waiting now, not counting those running.</summary>
    public int Depth
    {
        get
        {
            lock (_lock) return _queue.Count;
        }
    }

    /// <summary>Requests running on a worker now (at most <see cref="Workers"/>).</summary>
    public int Running => Volatile.Read(ref _busy);

    /// <summary>
    /// Queues a hash. False, at once, when the queue is full or the pool is disposed: answer SERVER_BUSY. The task
    /// completes off the worker thread, so whatever awaits it never holds up the next hash.
    /// </summary>
    public bool TryHash(string password, out Task<string> hash)
    {
        var item = new HashItem(password);
        bool accepted = TryEnqueue(item);
        hash = accepted ? item.Completion.Task : RejectedHash;
        return accepted;
    }

    /// <summary>Queues a verification; false, at once, when the queue is full or the pool is disposed.</summary>
    public bool TryVerify(string password, string encodedHash, out Task<PasswordCheck> result)
    {
        var item = new VerifyItem(password, encodedHash);
        bool accepted = TryEnqueue(item);
        result = accepted ? item.Completion.Task : RejectedCheck;
        return accepted;
    }

    /// <summary>
    /// Hashes on the calling thread, outside the queue and counters: for start-up work such as the dummy hash that
    /// unknown users are verified against. Never call it on a reactor.
    /// </summary>
    public string HashNow(string password) => _hasher.Hash(password);

    /// <summary>Stops taking work, lets the workers finish everything already queued, then waits for them.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_closing) return;
            _closing = true;
            Monitor.PulseAll(_lock);
        }
        foreach (var thread in _threads)
        {
            // A continuation that disposes the pool from a worker would otherwise wait for itself.
            if (thread != Thread.CurrentThread) thread.Join();
        }
    }

    private bool TryEnqueue(WorkItem item)
    {
        lock (_lock)
        {
            if (!_closing && _queue.Count < Capacity)
            {
                _queue.Enqueue(item);
                Interlocked.Increment(ref _queued);
                Monitor.Pulse(_lock);
                return true;
            }
            Interlocked.Increment(ref _rejected);
        }
        return false;
    }

    private void Work()
    {
        while (true)
        {
            WorkItem item;
            lock (_lock)
            {
                while (_queue.Count == 0)
                {
                    if (_closing) return;
                    Monitor.Wait(_lock);
                }
                item = _queue.Dequeue();
            }
            Interlocked.Increment(ref _busy);
            try
            {
                item.Run(_hasher);
            }
            finally
            {
                Interlocked.Decrement(ref _busy);
                Interlocked.Increment(ref _completed);
            }
        }
    }

    private abstract class WorkItem
    {
        public abstract void Run(IPasswordHasher hasher);
    }

    private sealed class HashItem(string password) : WorkItem
    {
        // RunContinuationsAsynchronously: an await on this task must not run account logic on a hash worker.
        public TaskCompletionSource<string> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run(IPasswordHasher hasher)
        {
            try
            {
                Completion.SetResult(hasher.Hash(password));
            }
            catch (Exception e)
            {
                Completion.SetException(e);
            }
        }
    }

    private sealed class VerifyItem(string password, string encodedHash) : WorkItem
    {
        public TaskCompletionSource<PasswordCheck> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run(IPasswordHasher hasher)
        {
            try
            {
                Completion.SetResult(hasher.Verify(password, encodedHash));
            }
            catch (Exception e)
            {
                Completion.SetException(e);
            }
        }
    }
}
