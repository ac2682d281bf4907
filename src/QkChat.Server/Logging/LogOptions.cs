namespace QkChat.Server.Logging;

/// <summary>Logging (log.*): the option registry binds these properties; their initializers are the defaults.</summary>
public sealed class LogOptions
{
    /// <summary>information: start, stop, warnings and errors without a line per request.</summary>
    public string Level { get; set; } = "information";

    /// <summary>Relative to the working directory; the systemd unit sets an absolute one.</summary>
    public string Dir { get; set; } = "logs";

    public bool ToFile { get; set; } = true;

    /// <summary>64 MB: a file an editor or grep still handles quickly; a judgement, not a measurement.</summary>
    public int FileMaxMegabytes { get; set; } = 64;
}
