using System.Collections.Concurrent;
using QkChat.Server.Security;

namespace QkChat.Server.Files;

/// <summary>
/// Dedicated threads for the store's blocking work: a chunk's write and fsync, a whole-file hash that must re-read
/// the staged bytes, a commit's fsyncs and rename (docs/files.md, "Throughput"). An fsync blocks its thread for as
/// long as the disk takes (tens of milliseconds per 8 MiB chunk on a busy disk); on the thread pool, four uploads
/// held both pool threads of a 2-core box that long, and the socket completions the reactors wait for queued behind
/// them (heartbeat p99 x3.2 during uploads, issue 21). Here a blocked fsync holds only its own thread, and the
/// awaiting request frees its pool thread meanwhile. The threads run slightly niced (<see cref="NiceSteps"/>) so a
/// reactor wins the CPU when both want it; results complete off these threads (RunContinuationsAsynchronously), so
/// no request continuation ever runs here. One set per process: every store shares it.
/// </summary>
internal sealed class FileIoThreads
{
    /// <summary>
    /// Four: four uploads' fsyncs can wait on the disk at once (the disk queues them; the threads are only blocked,
    /// not busy), while more would only add idle threads. A fifth request waits in the queue for a free thread.
    /// </summary>
    public const int Threads = 4;

    /// <summary>
    /// Three nice steps: CFS then weights these threads at about half a reactor (nice 0), so a reactor wins when both
    /// want the CPU, without starving uploads on a box busy with other nice-0 work (the password workers use 19 because
    /// a login storm must never slow chat; a slowed upload of hundreds of MB would only take longer).
    /// </summary>
    public const int NiceSteps = 3;

    public static readonly FileIoThreads Shared = new();

    private readonly BlockingCollection<Action> _queue = [];

    private FileIoThreads()
    {
        for (int i = 0; i < Threads; i++)
        {
            // Background: they never keep the process alive; work in flight at exit is like a crash (the upload rules cover it).
            var thread = new Thread(Work) { IsBackground = true, Name = $"qkchat-fileio-{i}" };
            thread.Start();
        }
    }

    /// <summary>Runs <paramref name="work"/> on one of the threads; the task completes on the thread pool.</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    private void Work()
    {
        ThreadNice.LowerCurrentThread(NiceSteps);
        foreach (var item in _queue.GetConsumingEnumerable()) item();
    }
}
