using QkChat.LoadGen.Options;
using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Workers;

/// <summary>The worker side: announce readiness, wait for the common start time, run this share, report.</summary>
public static class WorkerMain
{
    /// <summary>How long a worker waits for its start line. The coordinator sends it once all workers are ready,
    /// which takes milliseconds for the AOT binary; 60 s only bounds a coordinator that hung or died.</summary>
    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(LoadGenOptions options, CancellationToken cancel)
    {
        int index = options.WorkerIndex!.Value;
        var stdout = Console.Out;
        stdout.WriteLine(WorkerProtocol.Ready);

        var stdin = Console.In;
        Task<string?> startLine = Task.Run(stdin.ReadLine);
        if (!WorkerProtocol.TryParseStart(await startLine.WaitAsync(StartWait, cancel).ConfigureAwait(false), out long startUnixMs))
        {
            await Console.Error.WriteLineAsync($"worker {index}: no start line from the coordinator").ConfigureAwait(false);
            return 2;
        }

        // The coordinator going away (stdin closes) stops this worker too: orphans must not keep loading the server.
        using var orphaned = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        _ = Task.Run(() =>
        {
            while (stdin.ReadLine() is not null) { }
            orphaned.Cancel();
        });

        ProcessRun run = ProcessRun.Start(options, WorkerShare.For(options, index, options.WorkerCount), startUnixMs, orphaned.Token);
        while (!run.Completion.IsCompleted)
        {
            await Task.WhenAny(run.Completion, Task.Delay(WorkerProtocol.ProgressInterval, CancellationToken.None)).ConfigureAwait(false);
            stdout.WriteLine(WorkerProtocol.ProgressLine(run.Progress()));
        }
        stdout.WriteLine(WorkerProtocol.ResultLine(await run.Completion.ConfigureAwait(false)));
        await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }
}
