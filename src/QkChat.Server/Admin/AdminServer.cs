using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using QkChat.Server.Web;

namespace QkChat.Server.Admin;

/// <summary>
/// The admin HTTP listener (issue 8), on its own address (127.0.0.1:9100 by default), never the chat port: Kestrel
/// through ASP.NET Core's empty builder (<see cref="KestrelHostBuilder"/>), so HTTP parsing is a well-kept library's
/// job. Endpoints: `/metrics` (Prometheus text), `/healthz` (alive), `/readyz` (listeners, MariaDB, Redis), `/status` (JSON), `/` (the
/// dashboard page, shipped inside the binary) and `/api/dashboard` (the page's data). With a token configured,
/// every request but the static page needs it, in the Authorization header only (issue 16): a token in the URL
/// ends up in access logs, proxy logs, browser history and Referer headers.
/// </summary>
public sealed class AdminServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AdminServer(WebApplication app) => _app = app;

    public IPEndPoint? EndPoint { get; private set; }

    public static async Task<AdminServer> StartAsync(AdminOptions options, AdminEndpoints endpoints, CancellationToken ct)
    {
        var builder = KestrelHostBuilder.Create();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Parse(options.Host), options.Port));
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        byte[]? token = options.Token.Length > 0 ? Encoding.UTF8.GetBytes(options.Token) : null;
        if (token is not null) app.Use(async (context, next) =>
        {
            // The page is the same file for everyone, holds no data and cannot send a header when a browser opens
            // it; its script asks for the token and sends it with every data request.
            if (IsDashboardPage(context.Request) || Authorized(context.Request, token)) await next(context);
            else
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await context.Response.WriteAsync("admin token required\n", ct);
            }
        });
        app.UseRouting();
        app.MapGet("/metrics", (RequestDelegate)(c => Text(c, endpoints.Metrics(), PrometheusExporter.ContentType)));
        app.MapGet("/healthz", (RequestDelegate)(c => Text(c, "ok\n", "text/plain")));
        app.MapGet("/readyz", (RequestDelegate)(async c =>
        {
            var (ready, json) = await endpoints.ReadinessAsync(c.RequestAborted);
            c.Response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            await Text(c, json, "application/json");
        }));
        app.MapGet("/status", (RequestDelegate)(c => Text(c, endpoints.Status(), "application/json")));
        app.MapGet("/api/dashboard", (RequestDelegate)(c => Text(c, endpoints.Dashboard(), "application/json")));
        app.MapGet("/", (RequestDelegate)(c => Text(c, AdminEndpoints.DashboardPage, "text/html; charset=utf-8")));
        await app.StartAsync(ct);
        var server = new AdminServer(app);
        server.EndPoint = new IPEndPoint(IPAddress.Parse(options.Host), ActualPort(app, options.Port));
        return server;
    }

    private static int ActualPort(WebApplication app, int configured)
    {
        if (configured != 0) return configured;
        // Port 0 (tests): read back the port the OS chose.
        return new Uri(app.Urls.First()).Port;
    }

    private static bool IsDashboardPage(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && request.Path == "/";

    /// <summary>`Authorization: Bearer TOKEN` and nothing else: a `?token=` query is refused like a wrong token.</summary>
    private static bool Authorized(HttpRequest request, byte[] token)
    {
        string header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        // Constant time: the comparison must not tell how much of a guess was right.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..]), token);
    }

    private static Task Text(HttpContext context, string body, string contentType)
    {
        context.Response.ContentType = contentType;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
