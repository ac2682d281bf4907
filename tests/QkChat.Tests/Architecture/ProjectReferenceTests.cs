using System.Xml.Linq;
using Xunit;

namespace QkChat.Tests.Architecture;

/// <summary>References point toward the leaves (architecture.md §1); this reads the project files to keep it so.</summary>
public sealed class ProjectReferenceTests
{
    public static TheoryData<string, string[]> Allowed => new()
    {
        { "src/QkChat.Protocol", [] },
        { "src/QkChat.Transport", [] },
        { "src/QkChat.Core", ["QkChat.Protocol", "QkChat.Transport"] },
        { "src/QkChat.Client", ["QkChat.Protocol"] },
        { "src/QkChat.Cli", ["QkChat.Protocol", "QkChat.Client"] },
        { "bench/QkChat.LoadGen", ["QkChat.Protocol", "QkChat.Client"] },
        // Benchmarks measure composed parts too (RouteWireBenchmark: the cross-node batch format in Server/Cluster);
        // nothing references them, so this adds no edge into the product.
        { "bench/QkChat.Benchmarks", ["QkChat.Protocol", "QkChat.Transport", "QkChat.Core", "QkChat.Server"] },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void Project_references_only_point_toward_the_leaves(string project, string[] allowed)
    {
        string name = Path.GetFileName(project);
        var doc = XDocument.Load(Path.Combine(RepoPaths.Root, project, name + ".csproj"));
        var references = doc.Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value))
            .ToList();
        Assert.All(references, r => Assert.Contains(r, allowed));
    }

    [Fact]
    public void Only_the_server_references_the_storage_cache_and_mail_packages()
    {
        foreach (string project in new[] { "src/QkChat.Protocol", "src/QkChat.Transport", "src/QkChat.Core", "src/QkChat.Client", "src/QkChat.Cli", "bench/QkChat.LoadGen" })
        {
            string text = File.ReadAllText(Path.Combine(RepoPaths.Root, project, Path.GetFileName(project) + ".csproj"));
            foreach (string package in new[] { "MySqlConnector", "StackExchange.Redis", "MailKit" })
                Assert.DoesNotContain(package, text);
        }
    }
}
