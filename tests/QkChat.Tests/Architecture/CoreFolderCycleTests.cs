using System.Text.RegularExpressions;
using Xunit;

namespace QkChat.Tests.Architecture;

/// <summary>
/// The folders of src/QkChat.Core (one namespace each: QkChat.Core.Dispatch, QkChat.Core.Friends, ...) depend on
/// each other without a cycle (architecture.md §6), so each can be understood, tested and moved from the bottom up.
/// A folder depends on another when one of its files names QkChat.Core.Other, in a using line or a fully qualified
/// name. Sibling namespaces are not visible to each other without one of the two (the project has no global using of
/// them), so the scan sees every dependency.
/// </summary>
public sealed partial class CoreFolderCycleTests
{
    [GeneratedRegex(@"\bQkChat\.Core\.([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex CoreNamespace();

    private static string CoreDir => Path.Combine(RepoPaths.Root, "src", "QkChat.Core");

    /// <summary>Folder -> the other Core folders its source names, each with one file that names it (for the message).</summary>
    internal static Dictionary<string, SortedDictionary<string, string>> FolderGraph()
    {
        var folders = Directory.GetDirectories(CoreDir).Select(d => Path.GetFileName(d)).Where(f => f is not ("bin" or "obj")).ToHashSet(StringComparer.Ordinal);
        var graph = new Dictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
        foreach (string folder in folders)
        {
            var edges = graph[folder] = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (string file in Directory.EnumerateFiles(Path.Combine(CoreDir, folder), "*.cs", SearchOption.AllDirectories))
            {
                foreach (string line in File.ReadLines(file))
                {
                    string code = StripComment(line);
                    // A file's own namespace line names its folder, not a dependency.
                    if (code.TrimStart().StartsWith("namespace ", StringComparison.Ordinal)) continue;
                    foreach (Match m in CoreNamespace().Matches(code))
                    {
                        string target = m.Groups[1].Value;
                        if (target != folder && folders.Contains(target)) edges.TryAdd(target, Path.GetRelativePath(RepoPaths.Root, file));
                    }
                }
            }
        }
        return graph;
    }

    /// <summary>Every elementary cycle found by a depth-first search, each as "A -> B -> A" with the files behind the edges.</summary>
    internal static List<string> Cycles(Dictionary<string, SortedDictionary<string, string>> graph)
    {
        var cycles = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var path = new List<string>();
        var onPath = new HashSet<string>(StringComparer.Ordinal);

        void Visit(string node)
        {
            path.Add(node);
            onPath.Add(node);
            foreach (string next in graph[node].Keys)
            {
                if (onPath.Contains(next))
                {
                    var loop = path.Skip(path.IndexOf(next)).Append(next).ToList();
                    var because = loop.Zip(loop.Skip(1), (a, b) => $"{a} -> {b} ({graph[a][b]})");
                    string key = string.Join(" -> ", loop);
                    cycles.Add(key + "\n    " + string.Join("\n    ", because));
                }
                else if (seen.Add(next))
                {
                    Visit(next);
                }
            }
            onPath.Remove(node);
            path.RemoveAt(path.Count - 1);
        }

        foreach (string start in graph.Keys.Order(StringComparer.Ordinal))
            if (seen.Add(start)) Visit(start);
        return cycles;
    }

    [Fact]
    public void The_folders_of_Core_depend_on_each_other_without_a_cycle()
    {
        var graph = FolderGraph();
        Assert.Contains("Dispatch", graph.Keys);
        Assert.Contains("Messaging", graph.Keys);
        var cycles = Cycles(graph);
        Assert.True(cycles.Count == 0, "folder cycles in src/QkChat.Core:\n" + string.Join('\n', cycles));
    }

    [Fact]
    public void The_scan_finds_a_cycle_when_there_is_one()
    {
        // The search itself, on a made-up graph: a test of "no cycle" that could not see one would prove nothing.
        var graph = new Dictionary<string, SortedDictionary<string, string>>
        {
            ["A"] = new() { ["B"] = "a.cs" },
            ["B"] = new() { ["C"] = "b.cs" },
            ["C"] = new() { ["A"] = "c.cs" },
            ["D"] = new() { ["A"] = "d.cs" },
        };
        var cycles = Cycles(graph);
        Assert.Single(cycles);
        Assert.StartsWith("A -> B -> C -> A", cycles[0]);
        Assert.Empty(Cycles(new Dictionary<string, SortedDictionary<string, string>> { ["A"] = new() { ["B"] = "a.cs" }, ["B"] = new() }));
    }

    /// <summary>A line without its // comment (a cref or a remark may name another folder).</summary>
    private static string StripComment(string line)
    {
        int at = line.IndexOf("//", StringComparison.Ordinal);
        return at < 0 ? line : line[..at];
    }
}
