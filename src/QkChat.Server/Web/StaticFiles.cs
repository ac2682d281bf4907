using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace QkChat.Server.Web;

/// <summary>
/// The web client's files, embedded in the binary from src/QkChat.Server/Web/wwwroot/ (no build step, nothing on disk
/// to deploy), read once at start and served by path: `/` is index.html, any other path the file of that name. Each
/// answer carries a strong ETag (a hash of the bytes) and `Cache-Control: no-cache`, so a browser keeps the files and
/// revalidates them (304) on each load: a new binary's files are seen at once without versioned names.
/// </summary>
public sealed class StaticFiles
{
    private const string Prefix = "wwwroot/";

    // The types the web client uses; anything else is served as bytes (and nosniff keeps browsers from guessing).
    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".mjs"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
        [".json"] = "application/json",
        [".webmanifest"] = "application/manifest+json",
        [".txt"] = "text/plain; charset=utf-8",
        [".woff2"] = "font/woff2",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly FrozenDictionary<string, StaticFile> _files;

    private StaticFiles(FrozenDictionary<string, StaticFile> files) => _files = files;

    public int Count => _files.Count;

    /// <summary>Every resource under wwwroot/ in this assembly, keyed by its path from the root ("/index.html").</summary>
    public static StaticFiles Embedded()
    {
        var assembly = typeof(StaticFiles).Assembly;
        var files = new Dictionary<string, StaticFile>(StringComparer.Ordinal);
        foreach (string name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            string path = "/" + name[Prefix.Length..].Replace('\\', '/');
            string type = ContentTypes.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream");
            string etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 12)) + "\"";
            files[path] = new StaticFile(bytes, type, etag);
        }
        return new StaticFiles(files.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>GET or HEAD of a file: 200 with the bytes, 304 when the browser's copy is current, 404 otherwise.</summary>
    public Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        string path = request.Path.Value is null or "" or "/" ? "/index.html" : request.Path.Value;
        if (!_files.TryGetValue(path, out var file))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.ContentType = "text/plain; charset=utf-8";
            return response.WriteAsync("not found\n", context.RequestAborted);
        }
        response.Headers.ETag = file.ETag;
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        if (request.Headers.IfNoneMatch.ToString().Contains(file.ETag, StringComparison.Ordinal))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.ContentType = file.ContentType;
        response.ContentLength = file.Bytes.Length;
        if (HttpMethods.IsHead(request.Method)) return Task.CompletedTask;
        return response.Body.WriteAsync(file.Bytes, context.RequestAborted).AsTask();
    }

    private sealed record StaticFile(byte[] Bytes, string ContentType, string ETag);
}
