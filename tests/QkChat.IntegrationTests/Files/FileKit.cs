using System.Security.Cryptography;
using System.Text.Json;
using QkChat.Client;
using QkChat.Core.Files;
using QkChat.IntegrationTests.Chat;
using QkChat.Protocol;
using Xunit;

namespace QkChat.IntegrationTests.Files;

/// <summary>
/// A ChatHarness whose file store is a fresh temporary directory, with small chunks (64 KiB) so a test file of a few
/// hundred KiB spans several chunks, and users logged in over the protocol.
/// </summary>
internal sealed class FileKit : IAsyncDisposable
{
    public const int Chunk = 64 * 1024;

    private FileKit(ChatHarness chat, string dir)
    {
        Chat = chat;
        Dir = dir;
    }

    public ChatHarness Chat { get; }
    public string Dir { get; }
    public FileUploads Uploads => Chat.Features.Uploads;

    public static async Task<FileKit> StartAsync(long maxBytes = 1024 * 1024, int maxOpenUploads = 20, long maxBytesPerDay = 1L << 30,
        TimeProvider? clock = null)
    {
        string dir = Path.Combine(Path.GetTempPath(), "qkchat-files-" + Guid.NewGuid().ToString("N"));
        var options = new FileTransferOptions
        {
            Dir = dir, MaxBytes = maxBytes, ChunkBytes = Chunk, MaxOpenUploadsPerUser = maxOpenUploads, MaxBytesPerUserPerDay = maxBytesPerDay,
            Secret = "test secret", PublicUrl = "http://127.0.0.1:1",
        };
        return new FileKit(await ChatHarness.StartAsync(files: options, fileClock: clock), dir);
    }

    public async Task<(uint Id, ChatClient Device)> UserAsync()
    {
        var (id, name) = await Chat.CreateUserAsync();
        return (id, await Chat.LoginAsync(name));
    }

    public static byte[] RandomBytes(int n) => RandomNumberGenerator.GetBytes(n);

    public static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>file_upload_init's answer data (asserted OK).</summary>
    public static Task<JsonElement> InitAsync(ChatClient device, byte[] bytes, string name = "test.bin", string? sha = null) =>
        ChatHarness.Ok(device.FileUploadInitAsync(name, bytes.Length, sha ?? Sha(bytes), "application/octet-stream"));

    public static (long UploadId, string Token, long Offset) Upload(JsonElement init)
    {
        Assert.False(init.GetProperty("complete").GetBoolean());
        return (init.GetProperty("upload_id").GetInt64(), init.GetProperty("upload_token").GetString()!, init.GetProperty("offset").GetInt64());
    }

    /// <summary>Sends <paramref name="bytes"/> from <paramref name="from"/> up to <paramref name="to"/> in chunks; returns the last answer.</summary>
    public async Task<UploadAnswer> SendAsync(long uploadId, string token, byte[] bytes, long from, long to)
    {
        UploadAnswer last = default;
        for (long at = from; at < to; at += Chunk)
        {
            var chunk = bytes.AsMemory((int)at, (int)Math.Min(Chunk, to - at));
            last = await Uploads.PatchAsync(uploadId, token, at, chunk, SHA256.HashData(chunk.Span), CancellationToken.None);
            Assert.True(last.Status is UploadStatus.Ok or UploadStatus.Completed, $"chunk at {at}: {last.Status}");
        }
        return last;
    }

    /// <summary>Content files in the store (the same bytes are one file).</summary>
    public int StoredContents() => Chat.Features.FileStore.ContentCount();

    public async ValueTask DisposeAsync()
    {
        await Chat.DisposeAsync();
        if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true);
    }
}
