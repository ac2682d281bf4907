using QkChat.LoadGen;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Workers;

// qkchat-loadgen: see docs/loadgen.md. Exit codes: 0 passed, 1 the run failed its checks, 2 bad usage,
// 3 the --max-p99-ms gate failed, 4 the --min-success gate failed (several: the lowest).
if (args is ["fuzz", ..])
{
    using var stopFuzz = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stopFuzz.Cancel(); };
    return await QkChat.LoadGen.Fuzz.FuzzCommand.RunAsync(args[1..], Console.Out, Console.Error, stopFuzz.Token);
}
if (OptionParser.ParseForMain(args, Console.Out, Console.Error, out LoadGenOptions? parsed) is { } exitNow) return exitNow;
LoadGenOptions options = parsed!;   // ParseForMain returns no exit code only with options

// Ctrl-C cuts the run short but still reports what was measured; a second Ctrl-C ends the process.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancel.IsCancellationRequested) return;
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    return options.WorkerIndex is null
        ? await Coordinator.RunAsync(options, cancel.Token)
        : await WorkerMain.RunAsync(options, cancel.Token);
}
catch (UsageException e)
{
    Console.Error.WriteLine("qkchat-loadgen: " + e.Message);
    return 2;
}
catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException
                            or System.ComponentModel.Win32Exception)
{
    // Workers that could not start or never said "ready": the run did not happen.
    Console.Error.WriteLine("qkchat-loadgen: run failed: " + e.Message);
    return 1;
}
