using Microsoft.AspNetCore.Routing;

namespace QkChat.Server.Web;

/// <summary>
/// The extension point of the public HTTP listener: a feature that serves HTTP beside the web client and `/ws`
/// (file uploads over tus, protocol.md §10) implements this and is handed to <see cref="WebServer.StartAsync"/>
/// (composed in Hosting/ServerHost.cs, StartWebAsync). Its routes are mapped after `/ws` and before the static files,
/// so a route it maps wins over a file of the same path. Map with RequestDelegate handlers (AOT: no reflection-based
/// minimal-API binding).
/// </summary>
public interface IHttpEndpoints
{
    void Map(IEndpointRouteBuilder routes);
}
