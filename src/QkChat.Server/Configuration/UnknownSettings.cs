using System.Collections;

namespace QkChat.Server.Configuration;

/// <summary>A QKCHAT_* variable that is no setting, and the known setting whose name is closest to it.</summary>
public sealed record UnknownVariable(string Name, string Closest)
{
    public string Message => $"unknown environment variable {Name} is ignored; did you mean {Closest}?";
}

/// <summary>
/// issue 16: a misspelled setting (QKCHAT_MAIL_DROP_DIR for QKCHAT_MAIL_DIR) must not be ignored without a word.
/// Unknown QKCHAT_* variables are warned about at start and fail `qkchatd check-config`; unknown JSON keys and
/// `--key` options were already errors and now also name the closest setting.
/// </summary>
public static class UnknownSettings
{
    /// <summary>
    /// QKCHAT_* names read by something other than the option table, so they are known without being settings.
    /// The secret `_FILE` variables (QKCHAT_DB_PASSWORD_FILE ...) come from the table itself and are not listed.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, bool Prefix, string Reason)> KnownNonOptions =
    [
        (ConfigLoader.PathVariable, false, "the configuration file's path, read by the loader itself"),
        ("QKCHAT_TEST_", true, "the test suites and scripts/run-tests.sh (QKCHAT_TEST_SERVER_BIN, QKCHAT_TEST_REPO_ROOT, QKCHAT_TEST_FILTER)"),
        ("QKCHAT_STACK_", true, "scripts/stack.sh, the private MariaDB and Redis (ports, buffer pool, max connections)"),
        ("QKCHAT_CLUSTER_", true, "scripts/redis-cluster.sh, the local 3-master Redis Cluster (QKCHAT_CLUSTER_PORT, QKCHAT_CLUSTER_DIR)"),
        ("QKCHAT_RUN_SERVER", false, "scripts/run-nodes.sh (make run NODES=N), the qkchatd binary or qkchatd.dll it starts"),
        ("QKCHAT_DEB_MAINTAINER", false, "scripts/package-deb.sh, the Maintainer field of the .deb"),
        ("QKCHAT_HASH_SAMPLES", false, "the password-hash cost measurement (PasswordHasherCostTests, docs/passwords.md)"),
    ];

    private const string Prefix = "QKCHAT_";

    /// <summary>Every QKCHAT_* variable of <paramref name="environment"/> that is neither a setting nor a known non-setting, sorted by name.</summary>
    public static List<UnknownVariable> InEnvironment(IDictionary environment)
    {
        var unknown = new List<UnknownVariable>();
        foreach (DictionaryEntry entry in environment)
        {
            // Linux variable names are case-sensitive: only the upper-case prefix is ours.
            if (entry.Key is not string name || !name.StartsWith(Prefix, StringComparison.Ordinal) || IsKnown(name)) continue;
            unknown.Add(new UnknownVariable(name, ClosestVariable(name)));
        }
        unknown.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return unknown;
    }

    public static bool IsKnown(string variable)
    {
        foreach (var spec in OptionRegistry.All)
            if (variable == spec.Env || (spec.Secret && variable == spec.Env + "_FILE")) return true;
        foreach (var (name, prefix, _) in KnownNonOptions)
            if (prefix ? variable.StartsWith(name, StringComparison.Ordinal) : variable == name) return true;
        return false;
    }

    /// <summary>
    /// The setting whose variable is nearest, as "QKCHAT_MAIL_DIR (mail.drop_dir)". The key spelled as a variable
    /// (QKCHAT_MAIL_DROP_DIR) is a candidate too: it is the likeliest guess where the two differ.
    /// </summary>
    public static string ClosestVariable(string variable)
    {
        OptionSpec? best = null;
        string bestName = "";
        int bestDistance = int.MaxValue;
        foreach (var spec in OptionRegistry.All)
        {
            string asVariable = Prefix + spec.Key.Replace('.', '_').ToUpperInvariant();
            foreach (string candidate in spec.Secret ? new[] { spec.Env, spec.Env + "_FILE", asVariable } : new[] { spec.Env, asVariable })
            {
                int d = EditDistance(variable.ToUpperInvariant(), candidate);
                if (d >= bestDistance) continue;
                (best, bestDistance) = (spec, d);
                bestName = candidate == asVariable ? spec.Env : candidate;
            }
        }
        return $"{bestName} ({best!.Key})";
    }

    /// <summary>The setting key nearest to <paramref name="key"/> (a JSON key or a `--key` option), compared without case.</summary>
    public static string ClosestKey(string key)
    {
        string best = "";
        int bestDistance = int.MaxValue;
        foreach (var spec in OptionRegistry.All)
        {
            foreach (string candidate in spec.Secret ? new[] { spec.Key, spec.Key + "_file" } : new[] { spec.Key })
            {
                int d = EditDistance(key.ToLowerInvariant(), candidate);
                if (d < bestDistance) (best, bestDistance) = (candidate, d);
            }
        }
        return best;
    }

    /// <summary>
    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two neighbours each
    /// cost 1 ("prot" is one step from "port", not two). Names are short: the full table is fine.
    /// </summary>
    public static int EditDistance(string a, string b)
    {
        int width = b.Length + 1;
        var d = new int[(a.Length + 1) * width]; // row i, column j at i * width + j
        for (int i = 0; i <= a.Length; i++) d[i * width] = i;
        for (int j = 0; j <= b.Length; j++) d[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int best = Math.Min(Math.Min(d[(i - 1) * width + j] + 1, d[i * width + j - 1] + 1), d[(i - 1) * width + j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    best = Math.Min(best, d[(i - 2) * width + j - 2] + 1);
                d[i * width + j] = best;
            }
        }
        return d[a.Length * width + b.Length];
    }
}
