namespace QkChat.Server.Hosting;

/// <summary>qkchatd's exit codes (docs/packaging.md: the systemd unit does not restart after <see cref="Usage"/>).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}
