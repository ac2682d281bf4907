using System.Text;

namespace QkChat.Server.Configuration;

/// <summary>Renders the option table of docs/configuration.md and the secret-free summary logged at start.</summary>
public static class ConfigDocs
{
    public static string MarkdownTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| key | variable | default | reload | what it does | risk |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var s in OptionRegistry.All)
        {
            string env = s.Secret ? $"`{s.Env}`, `{s.Env}_FILE`" : $"`{s.Env}`";
            string def = s.DefaultText.Length == 0 ? "(empty)" : $"`{s.DefaultText}`";
            string reload = s.Reloadable ? "live" : "restart";
            sb.AppendLine($"| `{s.Key}` | {env} | {def} | {reload} | {s.Description} | {s.Risk} |");
        }
        return sb.ToString();
    }

    public static string Summary(ServerOptions options)
    {
        var sb = new StringBuilder();
        foreach (var s in OptionRegistry.All)
            sb.Append(s.Key).Append('=').Append(s.Show(options)).Append(' ');
        return sb.ToString().TrimEnd();
    }
}
