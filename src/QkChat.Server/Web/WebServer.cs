using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using QkChat.Transport;

namespace QkChat.Server.Web;

/// <summary>
/// The public HTTP listener (issue 20): Kestrel through ASP.NET Core's empty builder (AOT; <see cref="KestrelHostBuilder"/>),
/// separate from the admin listener, which stays on loopback. Routes: `GET /ws` (<see cref="WebSocketGateway"/>), what each
/// <see cref="IHttpEndpoints"/> maps, then the web client's embedded files (<see cref="StaticFiles"/>) for every
/// other GET or HEAD. HTTP/1.1 only: the WebSocket upgrade is an HTTP/1.1 mechanism (RFC 6455), and the files are few
/// and small.
/// </summary>
public sealed class WebServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebServer(WebApplication app, IPEndPoint endPoint, bool tls)
    {
        _app = app;
        EndPoint = endPoint;
        IsTls = tls;
    }

    public IPEndPoint EndPoint { get; }

    public bool IsTls { get; }

    /// <param name="certificate">The chat port's certificate (tls.cert_file, tls.key_file) when http.tls is on.</param>
    /// <param name="extra">Features' own routes (file uploads); mapped after /ws and before the files.</param>
    public static async Task<WebServer> StartAsync(HttpOptions options, TransportEngine engine, (string Cert, string Key)? certificate,
        IReadOnlyList<IHttpEndpoints> extra, ILoggerFactory loggers, CancellationToken ct)
    {
        var gateway = new WebSocketGateway(engine, options, loggers.CreateLogger("Web"));
        var upgrades = new WebSocketConnectionMiddleware(gateway, certificate is not null);
        var builder = KestrelHostBuilder.Create();
        builder.Logging.ClearProviders();
        var address = IPAddress.Parse(options.Host);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(address, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                if (certificate is { } pem) listen.UseHttps(HttpsOptions(pem.Cert, pem.Key));
                // After TLS (it sees the decrypted bytes), before HTTP: a plain WebSocket upgrade skips the HTTP layer.
                listen.Use(upgrades.OnConnectionAsync);
            });
        });
        // Inline pipe schedulers (docs/web.md, "Threads"): a WebSocket message read by Kestrel's receive loop reaches the
        // reactor's inbox on that same thread, and where the reactor still writes into the output pipe (TLS; a plain
        // upgrade sends straight to the socket, WebSocketPipeStream) its flush runs Kestrel's send loop on the reactor.
        // The default (thread-pool reader on the input pipe, an IOQueue reader on the output pipe) put two more thread
        // hand-offs on every round trip. The HTTP routes then run on the socket's completion thread (a thread-pool
        // thread on Linux, as before): they are asynchronous, and the one blocking call (a file upload's fsync) blocked
        // a thread-pool thread before too.
        builder.Services.Configure<SocketTransportOptions>(o => o.UnsafePreferInlineScheduling = true);
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        var files = StaticFiles.Embedded();
        app.UseRouting();
        app.MapGet("/ws", (RequestDelegate)gateway.HandleAsync);
        foreach (var endpoints in extra) endpoints.Map(app);
        app.MapMethods("/{**path}", [HttpMethods.Get, HttpMethods.Head], (RequestDelegate)files.ServeAsync);
        await app.StartAsync(ct);
        int port = options.Port != 0 ? options.Port : new Uri(app.Urls.First()).Port; // port 0 (tests): the one the OS chose
        return new WebServer(app, new IPEndPoint(address, port), certificate is not null);
    }

    /// <summary>The leaf and any chain certificates after it in the same PEM file, as the chat port's TLS listener loads them.</summary>
    private static HttpsConnectionAdapterOptions HttpsOptions(string certFile, string keyFile)
    {
        var leaf = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(certFile);
        var chain = new X509Certificate2Collection();
        foreach (var c in all)
            if (c.Thumbprint != leaf.Thumbprint) chain.Add(c);
        return new HttpsConnectionAdapterOptions { ServerCertificate = leaf, ServerCertificateChain = chain };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
