using System.Globalization;
using QkChat.IntegrationTests.Cli;
using QkChat.IntegrationTests.Infrastructure;
using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using Xunit;

namespace QkChat.IntegrationTests.LoadGen;

/// <summary>
/// qkchat-loadgen upload, small, against the real server and its public HTTP listener: three clients each upload a
/// file of several chunks and download it back; one upload connection is cut midway by a relay and resumed from HEAD.
/// </summary>
public sealed class UploadScenarioTests
{
    private const string Password = "upload-load-password-1";
    private const int ChunkBytes = 64 * 1024;

    /// <summary>180 s: migrate, provision and a server start on a loaded 2-core box, then a run bounded by its own
    /// clock (ramp 1 s + 20 s + 5 s grace at the most; it ends when the three files are through).</summary>
    [Fact(Timeout = 180_000)]
    public async Task Three_clients_upload_and_verify_their_files_through_a_cut()
    {
        await using var db = await TempDatabase.CreateAsync();
        string store = Directory.CreateTempSubdirectory("qkchat-loadgen-files-").FullName;
        try
        {
            int httpPort = ServerProcess.FreePort();
            await using var proxy = new CuttingProxy(httpPort);
            await using var server = await ProvisionedServer.StartAsync(db, ["--count", "3", "--prefix", "U", "--password", Password], env =>
            {
                // Three default-cost logins timed out in the client once at load 50 (session 10): the scenarios' cheap hash.
                ProvisionedServer.CheapPasswordHash(env);
                env["QKCHAT_HTTP_PORT"] = httpPort.ToString(CultureInfo.InvariantCulture);
                env["QKCHAT_FILES_DIR"] = store;
                env["QKCHAT_FILES_CHUNK_BYTES"] = ChunkBytes.ToString(CultureInfo.InvariantCulture);
                env["QKCHAT_FILES_PUBLIC_URL"] = $"http://127.0.0.1:{proxy.Port}";
            });

            const int size = 5 * ChunkBytes + 777;
            // A PATCH cut midway, on whichever connection first carries two and a half chunks upstream.
            proxy.CutUpstreamAfter(2 * ChunkBytes + ChunkBytes / 2);
            LoadGenOptions options = OptionParser.Parse(["upload", "--port", server.Port.ToString(CultureInfo.InvariantCulture),
                "--connections", "3", "--file-bytes", size.ToString(CultureInfo.InvariantCulture), "--verify-download", "--prefix", "U",
                "--password", Password, "--ramp-up", "1", "--duration", "20", "--quiet"])!;
            RunResult result = await new LocalRun(options, CancellationToken.None).Completion;
            ResultBuilder.Finish(result);

            UploadResult u = Assert.IsType<UploadResult>(result.Upload);
            Assert.True(result.Passed, result.Verdict + "\n" + Report.Markdown(result) + "\n" + server.Process.Output);
            Assert.Equal((3, 3L, 0L, ChunkBytes), (u.Clients, u.Completed, u.Failed, (int)u.ChunkBytes));
            Assert.Equal((3L, 0L), (u.Verified, u.Mismatched));
            Assert.Equal(1, proxy.Cuts);
            Assert.True(u.Resumes >= 1, $"resumes: {u.Resumes}");
            // Every byte counted once: the cut chunk was not taken, and was sent again after the resume.
            Assert.Equal(3L * size, u.BytesUploaded);
            Assert.Equal(3L * size, u.BytesDownloaded);
            Assert.True(u.UploadMegabytesPerS > 0 && u.DownloadMegabytesPerS > 0, Report.Markdown(result));
            // Six chunks per file, each timed once it was taken.
            Assert.Equal(18, result.LatencyUs!.Count);
            Assert.Contains("upload throughput", Report.Markdown(result));
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }
}
