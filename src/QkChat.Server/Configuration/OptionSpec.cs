using System.Globalization;

namespace QkChat.Server.Configuration;

/// <summary>
/// One setting: its JSON key (dotted path), its environment variable, how to parse and check a raw value, and the
/// documentation that docs/configuration.md is generated from.
/// </summary>
public sealed class OptionSpec
{
    private readonly Func<ServerOptions, string, string?> _apply;
    private readonly Func<ServerOptions, string> _show;

    private Func<object, string>? _showLayer;
    private Func<string>? _layerDefault;

    private OptionSpec(string key, string env, string description, string risk, bool secret,
        Func<ServerOptions, string, string?> apply, Func<ServerOptions, string> show)
    {
        Key = key;
        Env = env;
        Description = description;
        Risk = risk;
        Secret = secret;
        _apply = apply;
        _show = show;
    }

    public string Key { get; }
    public string Env { get; }
    public string Description { get; }
    public string Risk { get; }

    /// <summary>A secret is never printed, and may also be read from a file: `key_file` in JSON, `ENV_FILE` in the environment.</summary>
    public bool Secret { get; }

    /// <summary>Applied by a SIGHUP reload without restart (<see cref="LiveReload"/> holds how); otherwise "needs restart".</summary>
    public bool Reloadable => LiveReload.IsReloadable(Key);

    public string DefaultText => Secret ? "(empty)" : Show(new ServerOptions());

    /// <summary>
    /// The layer's options class this setting is bound to (e.g. TransportOptions), which holds its default and
    /// documents it; ServerOptions only holds an instance of that class. Null: the setting belongs to ServerOptions.
    /// </summary>
    public Type? Layer { get; private set; }

    /// <summary>The default as a fresh instance of <see cref="Layer"/> holds it (null when unbound; a secret's too, unmasked).</summary>
    public string? LayerDefaultText => _layerDefault?.Invoke();

    /// <summary>The value as <paramref name="layer"/> (an instance of <see cref="Layer"/>) holds it, a secret unmasked: for tests only.</summary>
    public string? ShowLayer(object layer) => _showLayer?.Invoke(layer);

    /// <summary>Parses and stores <paramref name="raw"/>; returns null, or what is allowed when the value is bad.</summary>
    public string? Apply(ServerOptions options, string raw) => _apply(options, raw);

    /// <summary>The value as text, secrets included: only for comparing two configurations, never for printing.</summary>
    internal string Raw(ServerOptions options) => _show(options);

    public string Show(ServerOptions options) => Secret ? (_show(options).Length == 0 ? "" : "***") : _show(options);

    public static OptionSpec Int(string key, string env, int min, int max, Func<ServerOptions, int> get,
        Action<ServerOptions, int> set, string description, string risk) =>
        new(key, env, description, risk, false,
            (o, raw) =>
            {
                if (!int.TryParse(raw.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
                    return $"an integer from {min} to {max}";
                set(o, v);
                return null;
            },
            o => get(o).ToString(CultureInfo.InvariantCulture));

    public static OptionSpec Bool(string key, string env, Func<ServerOptions, bool> get, Action<ServerOptions, bool> set,
        string description, string risk) =>
        new(key, env, description, risk, false,
            (o, raw) =>
            {
                switch (raw.Trim().ToLowerInvariant())
                {
                    case "true" or "1" or "yes" or "on": set(o, true); return null;
                    case "false" or "0" or "no" or "off": set(o, false); return null;
                    default: return "true or false";
                }
            },
            o => get(o) ? "true" : "false");

    public static OptionSpec Text(string key, string env, Func<ServerOptions, string> get, Action<ServerOptions, string> set,
        string description, string risk, bool allowEmpty = true, int maxLength = 4096, bool secret = false) =>
        new(key, env, description, risk, secret,
            (o, raw) =>
            {
                if (!allowEmpty && raw.Trim().Length == 0) return "a non-empty string";
                if (raw.Length > maxLength) return $"a string of at most {maxLength} characters";
                if (raw.Contains('\0')) return "a string without NUL characters";
                set(o, raw);
                return null;
            },
            get);

    // Bound forms: get and set act on the layer's options object that ServerOptions holds (select), so the
    // default is the layer's own and is written once, in the layer.

    public static OptionSpec Int<TLayer>(string key, string env, int min, int max, Func<ServerOptions, TLayer> select,
        Func<TLayer, int> get, Action<TLayer, int> set, string description, string risk) where TLayer : class, new() =>
        Int(key, env, min, max, o => get(select(o)), (o, v) => set(select(o), v), description, risk)
            .BindTo<TLayer>(l => get(l).ToString(CultureInfo.InvariantCulture));

    public static OptionSpec Bool<TLayer>(string key, string env, Func<ServerOptions, TLayer> select,
        Func<TLayer, bool> get, Action<TLayer, bool> set, string description, string risk) where TLayer : class, new() =>
        Bool(key, env, o => get(select(o)), (o, v) => set(select(o), v), description, risk)
            .BindTo<TLayer>(l => get(l) ? "true" : "false");

    public static OptionSpec Text<TLayer>(string key, string env, Func<ServerOptions, TLayer> select,
        Func<TLayer, string> get, Action<TLayer, string> set, string description, string risk,
        bool allowEmpty = true, int maxLength = 4096, bool secret = false) where TLayer : class, new() =>
        Text(key, env, o => get(select(o)), (o, v) => set(select(o), v), description, risk, allowEmpty, maxLength, secret)
            .BindTo<TLayer>(l => get(l));

    /// <summary>A text setting whose value <paramref name="rule"/> checks (null: fine; else what is allowed); stored trimmed.</summary>
    public static OptionSpec Checked<TLayer>(string key, string env, Func<ServerOptions, TLayer> select, Func<TLayer, string> get,
        Action<TLayer, string> set, Func<string, string?> rule, string description, string risk) where TLayer : class, new() =>
        new OptionSpec(key, env, description, risk, false,
            (o, raw) =>
            {
                if (rule(raw) is { } allowed) return allowed;
                set(select(o), raw.Trim());
                return null;
            },
            o => get(select(o))).BindTo<TLayer>(l => get(l));

    public static OptionSpec Choice<TLayer>(string key, string env, string[] allowed, Func<ServerOptions, TLayer> select,
        Func<TLayer, string> get, Action<TLayer, string> set, string description, string risk) where TLayer : class, new() =>
        Choice(key, env, allowed, o => get(select(o)), (o, v) => set(select(o), v), description, risk)
            .BindTo<TLayer>(l => get(l));

    private OptionSpec BindTo<TLayer>(Func<TLayer, string> show) where TLayer : class, new()
    {
        Layer = typeof(TLayer);
        _showLayer = l => show((TLayer)l);
        _layerDefault = () => show(new TLayer());
        return this;
    }

    public static OptionSpec Choice(string key, string env, string[] allowed, Func<ServerOptions, string> get,
        Action<ServerOptions, string> set, string description, string risk) =>
        new(key, env, description, risk, false,
            (o, raw) =>
            {
                string v = raw.Trim().ToLowerInvariant();
                if (Array.IndexOf(allowed, v) < 0) return "one of " + string.Join(", ", allowed);
                set(o, v);
                return null;
            },
            get);
}
