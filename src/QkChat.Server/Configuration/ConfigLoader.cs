using System.Collections;
using System.Text.Json;
using QkChat.Server.Mail;

namespace QkChat.Server.Configuration;

/// <summary>A configuration value that cannot be used; the message is the one line the server prints before exiting.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>
/// Builds <see cref="ServerOptions"/> from, in rising precedence: defaults, the JSON file, QKCHAT_* environment
/// variables, then command-line `--key=value` overrides. Every value is checked as it is read, so the first bad one
/// names its key, its value, where it came from and what is allowed.
/// </summary>
public static class ConfigLoader
{
    public const string DefaultPath = "config/server.json";
    public const string PathVariable = "QKCHAT_CONFIG_PATH";

    public static ServerOptions Load(string? configPath, IReadOnlyList<KeyValuePair<string, string>> overrides,
        IDictionary environment)
    {
        var options = new ServerOptions();
        bool explicitPath = configPath is not null || environment.Contains(PathVariable);
        string path = configPath ?? (environment[PathVariable] as string) ?? DefaultPath;
        var sources = new List<string>();

        if (File.Exists(path))
        {
            ApplyJson(options, path);
            sources.Add(path);
        }
        else if (explicitPath)
        {
            throw new ConfigException($"configuration file '{path}' does not exist");
        }

        foreach (var spec in OptionRegistry.All)
        {
            if (environment[spec.Env] is string value)
            {
                Set(options, spec, value, spec.Env);
                sources.Add("env");
            }
            if (spec.Secret && environment[spec.Env + "_FILE"] is string file)
            {
                Set(options, spec, ReadSecretFile(spec, file, spec.Env + "_FILE"), spec.Env + "_FILE");
            }
        }

        foreach (var (key, value) in overrides)
            Apply(options, key, value, "--" + key);

        CheckConsistency(options);
        options.Source = sources.Count == 0 ? "defaults" : string.Join("+", sources.Distinct());
        return options;
    }

    private static void ApplyJson(ServerOptions options, string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path),
                new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"configuration file '{path}' cannot be read: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ConfigException($"configuration file '{path}' must hold one JSON object");
            Walk(options, doc.RootElement, "", path);
        }
    }

    private static void Walk(ServerOptions options, JsonElement element, string prefix, string path)
    {
        foreach (var property in element.EnumerateObject())
        {
            string key = prefix + property.Name;
            var value = property.Value;
            switch (value.ValueKind)
            {
                case JsonValueKind.Object:
                    Walk(options, value, key + ".", path);
                    break;
                case JsonValueKind.String:
                    Apply(options, key, value.GetString()!, path);
                    break;
                case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    Apply(options, key, value.GetRawText(), path);
                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    throw new ConfigException($"invalid configuration: {key} in {path} must be a single value, not {value.ValueKind}");
            }
        }
    }

    /// <summary>Applies one `key=value` from the file or the command line, accepting `secret_file` forms.</summary>
    private static void Apply(ServerOptions options, string key, string value, string source)
    {
        if (OptionRegistry.Find(key) is { } spec)
        {
            Set(options, spec, value, source);
            return;
        }
        if (key.EndsWith("_file", StringComparison.OrdinalIgnoreCase)
            && OptionRegistry.Find(key[..^5]) is { Secret: true } secret)
        {
            Set(options, secret, ReadSecretFile(secret, value, source), source);
            return;
        }
        throw new ConfigException($"invalid configuration: unknown key '{key}' (from {source}); did you mean {UnknownSettings.ClosestKey(key)}? see docs/configuration.md");
    }

    private static void Set(ServerOptions options, OptionSpec spec, string value, string source)
    {
        if (spec.Apply(options, value) is { } allowed)
        {
            string shown = spec.Secret ? "***" : $"'{value}'";
            throw new ConfigException($"invalid configuration: {spec.Key} = {shown} (from {source}): expected {allowed}");
        }
    }

    private static string ReadSecretFile(OptionSpec spec, string file, string source)
    {
        try
        {
            // Only the trailing newline an editor or `echo` leaves is removed; a secret may contain other spaces.
            return File.ReadAllText(file).TrimEnd('\n', '\r');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"invalid configuration: {spec.Key} file '{file}' (from {source}) cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// issue 16: the admin listener shows the configuration, warnings and security events (client addresses); off
    /// loopback it must not serve them to whoever reaches the port.
    /// </summary>
    private static void CheckAdminExposure(ServerOptions o)
    {
        if (!o.Admin.Enabled) return;
        if (!System.Net.IPAddress.TryParse(o.Admin.Host, out var address))
            throw new ConfigException($"invalid configuration: admin.host = '{o.Admin.Host}': expected an IP address such as 127.0.0.1");
        if (!System.Net.IPAddress.IsLoopback(address) && o.Admin.Token.Length == 0)
            throw new ConfigException($"invalid configuration: admin.host = '{o.Admin.Host}' is not a loopback address and admin.token is empty: " +
                "set admin.token (or admin.token_file / QKCHAT_ADMIN_TOKEN_FILE), bind admin.host to 127.0.0.1, or set admin.enabled = false");
    }

    private static void CheckConsistency(ServerOptions o)
    {
        if (o.Transport.SendQueueLowBytes >= o.Transport.SendQueueHighBytes)
            throw new ConfigException($"invalid configuration: server.send_queue_low_bytes = {o.Transport.SendQueueLowBytes}: expected below server.send_queue_high_bytes ({o.Transport.SendQueueHighBytes})");
        if (o.Transport.SendQueueHighBytes >= o.Transport.SendQueueHardCapBytes)
            throw new ConfigException($"invalid configuration: server.send_queue_high_bytes = {o.Transport.SendQueueHighBytes}: expected below server.send_queue_hard_cap_bytes ({o.Transport.SendQueueHardCapBytes})");
        if (o.Transport.SendQueueHardCapBytes < 2 * (o.Transport.MaxFrameBytes + QkChat.Transport.LengthPrefixCodec.Instance.MaxHeaderBytes))
            throw new ConfigException($"invalid configuration: server.send_queue_hard_cap_bytes = {o.Transport.SendQueueHardCapBytes}: expected at least two maximum frames ({2 * (o.Transport.MaxFrameBytes + QkChat.Transport.LengthPrefixCodec.Instance.MaxHeaderBytes)})");
        if (o.Http.Enabled && !System.Net.IPAddress.TryParse(o.Http.Host, out _))
            throw new ConfigException($"invalid configuration: http.host = '{o.Http.Host}': expected an IP address such as 127.0.0.1 or 0.0.0.0");
        if (o.Http.Enabled && o.Http.Tls && (o.Tls.CertificatePemFile.Length == 0 || o.Tls.KeyPemFile.Length == 0))
            throw new ConfigException("invalid configuration: http.tls = true needs tls.cert_file and tls.key_file (the HTTP listener uses the chat port's certificate)");
        if (!System.Net.IPAddress.TryParse(o.Listener.Host, out _))
            throw new ConfigException($"invalid configuration: server.host = '{o.Listener.Host}': expected an IP address such as 127.0.0.1 or 0.0.0.0");
        if (o.Transport.MaxClientsPerIp > o.Transport.MaxClients)
            o.Transport.MaxClientsPerIp = o.Transport.MaxClients;
        if (!o.Transport.PlainListener && !o.Listener.TlsEnabled)
            throw new ConfigException("invalid configuration: server.plain_tcp = false with tls.enabled = false: expected tls.enabled = true, or nothing would listen for chat");
        if (MailTransportOptions.ParseFrom(o.MailTransport.From) is null)
            throw new ConfigException($"invalid configuration: smtp.from = '{o.MailTransport.From}': expected a mail address such as QkChat <no-reply@example.org>");
        CheckAdminExposure(o);
        if (o.Listener.TlsEnabled)
        {
            if (o.Transport.PlainListener && o.Tls.Port == o.Transport.Port)
                throw new ConfigException($"invalid configuration: tls.port = {o.Tls.Port}: expected a port other than server.port");
            if (o.Tls.CertificatePemFile.Length == 0 || !File.Exists(o.Tls.CertificatePemFile))
                throw new ConfigException($"invalid configuration: tls.cert_file = '{o.Tls.CertificatePemFile}': expected an existing PEM file when tls.enabled is true");
            if (o.Tls.KeyPemFile.Length == 0 || !File.Exists(o.Tls.KeyPemFile))
                throw new ConfigException($"invalid configuration: tls.key_file = '{o.Tls.KeyPemFile}': expected an existing PEM file when tls.enabled is true");
        }
    }
}
