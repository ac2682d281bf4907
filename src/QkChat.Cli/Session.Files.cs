using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using QkChat.Client;
using QkChat.Protocol;

namespace QkChat.Cli;

/// <summary>
/// /send-file and /get-file (docs/cli.md, docs/files.md): the chat connection asks for an upload or a download URL,
/// the bytes go over HTTP (tus PATCH in the server's chunks with sha256 checksums, resumed from HEAD's offset after a
/// cut; GET with Range resume), with a progress bar on a terminal and a plain line per tenth otherwise.
/// </summary>
internal sealed partial class Session
{
    private HttpClient? _http;

    /// <summary>One HTTP client for every transfer of the session (its connections are reused); --insecure carries over.</summary>
    private HttpClient Http => _http ??= new HttpClient(new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = _settings.ClientOptions.CertificateValidation },
    })
    {
        // One chunk (8 MiB by default) over a slow link: a minute is generous; a stalled request counts as a cut.
        Timeout = _settings.TransferTimeout,
    };

    private async Task SendFileAsync(string path, string? caption, CancellationToken ct)
    {
        if (_peer == 0 && _group == 0)
        {
            Fail("no chat is open: /chat <user> or /gchat <group_id> first");
            return;
        }
        long peer = _peer, group = _group;
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            Fail($"cannot read {path}: {e.Message}");
            return;
        }
        await using (file)
        {
            long size = file.Length;
            string name = Path.GetFileName(Path.GetFullPath(path));
            string sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct).ConfigureAwait(false));
            if (await CallAsync(c => c.FileUploadInitAsync(name, size, sha, MimeOf(name), ct), ct) is not { } init) return;
            long fileId = init.Long("file_id") ?? 0;
            if (init.Bool("complete"))
            {
                _out.Line($"{name}: the server has these bytes already (file {fileId}); nothing to send");
            }
            else if (await UploadAsync(file, name, size, sha, init, ct).ConfigureAwait(false) is { } uploaded)
            {
                fileId = uploaded;
            }
            else
            {
                return;
            }
            string clientMsgId = "cli-" + Guid.NewGuid().ToString("N");
            if (group != 0)
            {
                if (await CallAsync(c => c.SendGroupFileMessageAsync(group, fileId, caption ?? "", clientMsgId, ct), ct) is not { } g) return;
                _out.Line($"[{_format.Time(g.Long("timestamp") ?? 0)}] [group {group} #{g.Long("seq")}] me: {PushFormatter.FileText(fileId, name, size)}"
                    + (string.IsNullOrEmpty(caption) ? "" : " " + PushFormatter.Clean(caption)));
                return;
            }
            if (await CallAsync(c => c.SendFileMessageAsync(peer, fileId, caption ?? "", clientMsgId, ct), ct) is not { } d) return;
            _out.Line(_format.Message(d.Long("message_id") ?? 0, _format.Me, peer, caption ?? "",
                d.Long("timestamp") ?? _settings.Clock.GetUtcNow().ToUnixTimeMilliseconds(), d.Str("status") ?? "sent", false,
                PushFormatter.FileText(fileId, name, size)));
        }
    }

    /// <summary>Sends the bytes; null (and a message) when the upload failed. A lost final answer is settled by asking again.</summary>
    private async Task<long?> UploadAsync(FileStream file, string name, long size, string sha, JsonElement init, CancellationToken ct)
    {
        var target = new UploadTarget(init.Str("upload_url") ?? "", init.Str("upload_token") ?? "", size, init.Long("offset") ?? 0,
            (int)(init.Long("chunk_bytes") ?? 8 << 20));
        if (target.Offset > 0) _out.Line($"{name}: resuming at {Bytes(target.Offset)} of {Bytes(size)}");
        var bar = new ProgressBar(_out, $"sending {name}", size, _settings.Clock);
        bar.Show(target.Offset);
        var uploader = new TusUploader(Http)
        {
            ChunkSent = t => bar.Show(t.Offset + t.Bytes),
            Resumed = (offset, e) => _out.Line(_format.Note($"the upload was cut ({e.Message}); resuming at {Bytes(offset)}")),
            Backoff = _settings.TransferBackoff,
        };
        try
        {
            long id = await uploader.UploadAsync(file, target, ct).ConfigureAwait(false);
            bar.Done();
            return id;
        }
        catch (UploadFailedException e) when (e.Gone)
        {
            bar.Done();
            // The upload is finished (its last answer was lost), expired or was deleted: the server says which.
            if (await CallAsync(c => c.FileUploadInitAsync(name, size, sha, MimeOf(name), ct), ct) is { } again && again.Bool("complete"))
                return again.Long("file_id");
            Fail($"{name}: the upload is gone on the server; /send-file again starts over");
            return null;
        }
        catch (UploadFailedException e)
        {
            bar.Done();
            Fail($"{name}: upload failed: {e.Message}");
            return null;
        }
    }

    private async Task GetFileAsync(long fileId, string? path, CancellationToken ct)
    {
        if (await CallAsync(c => c.GetFileUrlAsync(fileId, ct), ct) is not { } d) return;
        string url = d.Str("url") ?? "";
        string target = path ?? await DefaultNameAsync(url, fileId, ct).ConfigureAwait(false);
        if (Directory.Exists(target)) target = Path.Combine(target, await DefaultNameAsync(url, fileId, ct).ConfigureAwait(false));
        // Bytes go to NAME.part (kept after a failure: /get-file again resumes from it), renamed once whole and checked.
        string partial = target + ".part";
        string etagFile = partial + ".etag";
        string? etag = File.Exists(etagFile) ? (await File.ReadAllTextAsync(etagFile, ct).ConfigureAwait(false)).Trim() : null;
        FileStream stream;
        try
        {
            stream = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 16, useAsync: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            Fail($"cannot write {partial}: {e.Message}");
            return;
        }
        DownloadResult result;
        var bar = new ProgressBar(_out, $"getting {Path.GetFileName(target)}", 0, _settings.Clock);
        await using (stream)
        {
            if (stream.Length > 0 && etag is null)
            {
                // Nothing says whose bytes these are (no ETag was kept beside them): If-Range cannot guard a resume.
                _out.Line(_format.Note($"{partial} has no ETag beside it; starting over"));
                stream.SetLength(0);
            }
            if (stream.Length > 0) _out.Line($"{Path.GetFileName(target)}: resuming at {Bytes(stream.Length)}");
            var downloader = new FileDownloader(Http)
            {
                Progress = (have, total) => bar.Show(have, total),
                Backoff = _settings.TransferBackoff,
                // Kept beside the part from the first response on, so that a later run (after a failure or a kill) resumes
                // with If-Range, and starts over should the server's ETag differ.
                ETagChanged = (tag, c) => File.WriteAllTextAsync(etagFile, tag, c),
                RenewUrl = async c => (await CallAsync(x => x.GetFileUrlAsync(fileId, c), c).ConfigureAwait(false))?.Str("url")
                    ?? throw new DownloadFailedException(HttpStatusCode.NotFound, "no new URL"),
            };
            try
            {
                result = await downloader.DownloadAsync(url, stream, etag, ct).ConfigureAwait(false);
                bar.Done();
            }
            catch (DownloadFailedException e)
            {
                bar.Done();
                Fail($"file {fileId}: download failed: {e.Message}" + (stream.Length > 0 ? $"; {partial} is kept, /get-file {fileId} resumes" : ""));
                return;
            }
            // The ETag is the content's sha256 (docs/files.md): check what arrived against it.
            stream.Seek(0, SeekOrigin.Begin);
            string sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false));
            if (result.ETag is { } e2 && e2.Trim('"') != sha)
            {
                stream.SetLength(0);
                File.Delete(etagFile);
                Fail($"file {fileId}: the bytes do not match their sha256 ({sha}); deleted, /get-file {fileId} starts over");
                return;
            }
        }
        File.Move(partial, target, overwrite: true);
        File.Delete(etagFile);
        _out.Line($"file {fileId}: saved {Bytes(result.Length)} to {target} (sha256 checked)");
    }

    /// <summary>The name the uploader gave (Content-Disposition of a HEAD), else file-ID; never a path.</summary>
    private async Task<string> DefaultNameAsync(string url, long fileId, CancellationToken ct)
    {
        try
        {
            using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url), ct).ConfigureAwait(false);
            string? name = head.Content.Headers.ContentDisposition?.FileNameStar ?? head.Content.Headers.ContentDisposition?.FileName?.Trim('"');
            if (name is { Length: > 0 } && Path.GetFileName(name) == name && name is not "." and not "..") return name;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            // Then the fallback name; the GET reports what is wrong.
        }
        return "file-" + fileId.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A few common types by extension, so a receiver's browser previews images; the rest is octet-stream.</summary>
    private static string? MimeOf(string name) => Path.GetExtension(name).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".webp" => "image/webp",
        ".txt" => "text/plain",
        ".pdf" => "application/pdf",
        _ => null,
    };

    internal static string Bytes(long n) => n switch
    {
        < 1024 => n.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (n / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => (n / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
    };

    private async Task GroupChatAsync(long group, CancellationToken ct)
    {
        if (await CallAsync(c => c.GetGroupMembersAsync(group, limit: 1, ct: ct), ct) is null) return;
        _group = group;
        _peer = 0;
        _out.Line($"chatting in group {group}: type a line to send it; /ghistory {group} shows earlier entries");
    }
}
