using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace QkChat.Server.Storage;

/// <summary>One forward-only schema step, from sql/NNNN_name.sql (embedded in the binary at build time).</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    /// <summary>SHA-256 of the script: a landed migration that was edited afterwards is caught, not re-run.</summary>
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));

    /// <summary>The migrations this build knows, in version order.</summary>
    public static IReadOnlyList<Migration> Embedded()
    {
        var assembly = typeof(Migration).Assembly;
        var list = new List<Migration>();
        foreach (string resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith("sql/", StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
                continue;
            string file = resource["sql/".Length..^".sql".Length];
            int underscore = file.IndexOf('_');
            if (underscore <= 0 || !int.TryParse(file[..underscore], out int version))
                throw new InvalidOperationException($"migration file '{resource}' is not named NNNN_name.sql");
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            list.Add(new Migration(version, file[(underscore + 1)..], reader.ReadToEnd()));
        }
        list.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (int i = 1; i < list.Count; i++)
            if (list[i].Version == list[i - 1].Version)
                throw new InvalidOperationException($"two migrations share version {list[i].Version}");
        return list;
    }
}
