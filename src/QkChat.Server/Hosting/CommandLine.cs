using QkChat.Server.Audit;
using QkChat.Server.Configuration;

namespace QkChat.Server.Hosting;

/// <summary>What the user asked for on the command line: a command, a config path and `--key=value` overrides.</summary>
public sealed class CommandLine
{
    public string Command { get; private set; } = "run";
    public string? ConfigPath { get; private set; }
    public List<KeyValuePair<string, string>> Overrides { get; } = [];

    /// <summary>Options of the command itself (provision-users: --count, --prefix, --password, --friends), not settings.</summary>
    public Dictionary<string, string> CommandOptions { get; } = [];

    /// <summary>Value-less switches of the command itself (audit: --json).</summary>
    public HashSet<string> Flags { get; } = [];

    public static readonly string[] Commands = ["run", "migrate", "provision-users", "audit", "check-config", "config-docs", "version", "help"];

    public static CommandLine Parse(string[] args)
    {
        var line = new CommandLine();
        bool commandSeen = false;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "--version" or "-V": line.Command = "version"; return line;
                case "--help" or "-h": line.Command = "help"; return line;
            }
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                string name = arg[2..];
                if (name == AuditCommand.JsonFlag)
                {
                    line.Flags.Add(name);
                    continue;
                }
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0) (name, value) = (name[..eq], name[(eq + 1)..]);
                value ??= i + 1 < args.Length ? args[++i] : throw new ConfigException($"option --{name} needs a value");
                if (name == "config") line.ConfigPath = value;
                else if (Array.IndexOf(Provisioning.OptionNames, name) >= 0 || Array.IndexOf(AuditCommand.OptionNames, name) >= 0)
                    line.CommandOptions[name] = value;
                else if (OptionRegistry.Find(name) is not null || name.EndsWith("_file", StringComparison.Ordinal)) line.Overrides.Add(new(name, value));
                else throw new ConfigException($"unknown option --{name}; did you mean --{UnknownSettings.ClosestKey(name)}? see qkchatd --help and docs/configuration.md");
                continue;
            }
            if (commandSeen || Array.IndexOf(Commands, arg) < 0)
                throw new ConfigException($"unknown command '{arg}'; expected one of: {string.Join(", ", Commands)}");
            line.Command = arg;
            commandSeen = true;
        }
        // Each command's own options belong to it alone: `--user` on `run` is a mistake, not something to ignore.
        foreach (string name in line.CommandOptions.Keys.Concat(line.Flags))
        {
            string owner = Array.IndexOf(Provisioning.OptionNames, name) >= 0 ? "provision-users" : "audit";
            if (line.Command != owner) throw new ConfigException($"--{name} belongs to {owner} only");
        }
        return line;
    }

    public const string Usage = """
        qkchatd: the QkChat chat server

        usage: qkchatd [command] [--config PATH] [--key=value ...]

        commands:
          run            serve chat (the default)
          migrate        apply pending database migrations from this build, then exit
          provision-users --count N --prefix P --password PW [--friends pairs|groups:SIZE]
                         create load-test users P000000..P(N-1), all sharing one password hash; idempotent
                         (docs/loadgen.md "Accounts for load tests"); --friends pairs also makes users 2k and
                         2k+1 friends (N even), as qkchat-loadgen chat needs; --friends groups:SIZE makes the
                         first of each block of SIZE users friends with the rest, as qkchat-loadgen group needs
          audit --user ID|--ip ADDR [--since TIME] [--limit N] [--json]
                         print security events newest first (docs/audit.md), read from the database;
                         TIME is ISO-8601 (2025-01-31T08:00:00Z) or Unix milliseconds; default limit 50
          check-config   validate the configuration, print it without secrets, then exit
          config-docs    print the table of every setting (docs/configuration.md)
          version        print the version (also --version)
          help           print this text (also --help)

        configuration, lowest to highest precedence:
          defaults < JSON file (config/server.json, --config PATH or QKCHAT_CONFIG_PATH)
                   < QKCHAT_* environment variables (secrets also as QKCHAT_*_FILE)
                   < --key=value options, e.g. --server.port=9000 --log.level=debug

        signals: SIGTERM/SIGINT stop gracefully, SIGHUP reloads the configuration (the keys
                 marked reloadable in docs/configuration.md; the others are logged as "needs restart").
        exit codes: 0 ok, 1 runtime failure (backend unreachable, schema mismatch), 2 bad usage or configuration.
        """;
}
