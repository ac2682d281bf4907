using System.Net;
using System.Security.Cryptography;
using QkChat.IntegrationTests.Infrastructure;
using Xunit;
using static QkChat.IntegrationTests.Chat.ChatHarness;
using static QkChat.IntegrationTests.Files.FileKit;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// issue 21: qkchatd killed with SIGKILL while chunks of an upload are in flight; after the restart HEAD's offset is one
/// the disk holds (never beyond what was written), at least what was acknowledged, and the upload resumes from it to a
/// file with the right sha256.
/// </summary>
public sealed class UploadCrashTests
{
    private const int ChunkBytes = CrashRig.ChunkBytes;

    [Fact(Timeout = 120_000)] // two server starts on a loaded 2-core machine
    public async Task After_SIGKILL_mid_upload_the_offset_is_consistent_and_the_upload_resumes()
    {
        await using var rig = await CrashRig.StartAsync();
        var bytes = RandomBytes(40 * ChunkBytes + 17);
        string url, token;
        await using (var device = await rig.DeviceAsync())
        {
            var init = await Ok(device.FileUploadInitAsync("big.bin", bytes.Length, Sha(bytes)));
            url = init.GetProperty("upload_url").GetString()!;
            token = init.GetProperty("upload_token").GetString()!;
        }

        // Chunks stream in one after another; the kill lands while one is being written or recorded.
        long acknowledged = 0;
        using var stop = new CancellationTokenSource();
        var streaming = Task.Run(async () =>
        {
            try
            {
                for (long at = 0; at < bytes.Length && !stop.IsCancellationRequested; at += ChunkBytes)
                {
                    using var response = await rig.PatchAsync(url, token, at, bytes.AsMemory((int)at, (int)Math.Min(ChunkBytes, bytes.Length - at)));
                    if (response.StatusCode != HttpStatusCode.NoContent) return;
                    Volatile.Write(ref acknowledged, at + ChunkBytes);
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
        });
        await Wait.UntilAsync(() => Volatile.Read(ref acknowledged) >= 10 * ChunkBytes || streaming.IsCompleted,
            "ten chunks acknowledged before the kill", TimeSpan.FromSeconds(60));
        Assert.False(streaming.IsCompleted, "the upload finished before the kill");
        await rig.KillAsync();
        await stop.CancelAsync();
        await streaming.WaitAsync(TimeSpan.FromSeconds(30));
        long acked = Volatile.Read(ref acknowledged);

        await rig.RestartAsync();
        using var headAnswer = await rig.HeadAsync(url, token);
        Assert.Equal(HttpStatusCode.OK, headAnswer.StatusCode);
        long offset = long.Parse(headAnswer.Headers.GetValues("Upload-Offset").Single());
        // Never less than acknowledged, never more than was sent (one chunk past the last acknowledgement at most),
        // always on a chunk boundary (a cut chunk is trimmed), and the staging file holds exactly that much.
        Assert.InRange(offset, acked, acked + ChunkBytes);
        Assert.Equal(0, offset % ChunkBytes);
        var staged = Directory.GetFiles(Path.Combine(rig.Dir, "staging")).Single();
        Assert.Equal(offset, new System.IO.FileInfo(staged).Length);
        Assert.Equal(bytes.AsSpan(0, (int)offset).ToArray(), File.ReadAllBytes(staged));

        using (var last = await rig.SendAsync(url, token, bytes, offset, bytes.Length)) Assert.True(last.Headers.Contains("Qkchat-File-Id"));
        var content = Directory.GetFiles(Path.Combine(rig.Dir, "content"), "*", SearchOption.AllDirectories).Single();
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(File.ReadAllBytes(content)));
    }
}
