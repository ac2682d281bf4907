using Microsoft.AspNetCore.Builder;

namespace QkChat.Server.Web;

/// <summary>
/// The builder of the web and admin listeners' Kestrel hosts: ASP.NET Core's empty builder, with only what each
/// listener adds (Kestrel core, routing). Not the slim builder: that one loads appsettings.json from the working
/// directory with reload-on-change, which starts a FileSystemWatcher over the whole working directory tree (the
/// package's /var/lib/qkchat, the file store included): an inotify instance and a thread per host, woken by every
/// write below it (a profile under load found those threads burning CPU: bench/RESULTS.md, issue 22 point 4). qkchatd
/// is configured by its own options (docs/configuration.md), never by appsettings.json or ASPNETCORE_ variables. The
/// slim builder's console lifetime went with it: it stopped each host on SIGTERM by itself, while the server host
/// stops them in its own order (docs/architecture.md §5).
/// </summary>
internal static class KestrelHostBuilder
{
    public static WebApplicationBuilder Create() => WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
}
