using System.Text.RegularExpressions;
using Xunit;

namespace QkChat.Tests.Architecture;

/// <summary>
/// Core features reach users' devices only through the delivery port (src/QkChat.Core/Routing/IDelivery.cs), so a
/// second implementation (several nodes) can replace the local one without touching them (architecture.md §6).
/// This reads the feature folders' source: no feature names the node-local registry, pushes into a connection's
/// send queue, or builds the `kicked` push itself; nor does it hold Transport's Connection as a device's identity
/// (the Session is: it carries the user, device, address and limit key, and Routing/Dispatch reach the connection).
/// </summary>
public sealed partial class DeliveryPortTests
{
    // Dispatch and Routing are the two folders that own the connection side; every other folder of Core is a feature,
    // so a new one (Groups, Files) is held to the rule without being listed here.
    private static readonly string[] ConnectionSide = ["Dispatch", "Routing"];

    private static IEnumerable<string> FeatureFolders() =>
        Directory.EnumerateDirectories(Path.Combine(RepoPaths.Root, "src", "QkChat.Core"))
            .Where(dir => Path.GetFileName(dir) is not ("bin" or "obj") && !ConnectionSide.Contains(Path.GetFileName(dir)));

    [Fact]
    public void The_feature_folders_include_the_known_features()
    {
        var names = FeatureFolders().Select(Path.GetFileName).ToHashSet();
        foreach (string known in new[] { "Accounts", "Friends", "Messaging", "Presence", "Audit", "Groups" })
            Assert.Contains(known, names);
    }

    // LiveSessions: the node-local registry. PostSend: Connection's cross-thread send. SendToUser/ForEachDevice: the
    // two old delivery paths. PushNames.Kicked: a kick built by hand instead of IDelivery.Kick.
    [GeneratedRegex(@"\bLiveSessions\b|\.PostSend\s*\(|\bSendToUser\b|\bForEachDevice\b|\bPushNames\.Kicked\b")]
    private static partial Regex DirectDelivery();

    // Connection: Transport's connection as the identity of a device (features use the Session, Core's own).
    [GeneratedRegex(@"\bConnection\b")]
    private static partial Regex TransportConnection();

    [Fact]
    public void Core_features_deliver_only_through_the_delivery_port() =>
        AssertNoLineMatches(DirectDelivery(), "direct delivery in Core features (use IDelivery)");

    [Fact]
    public void Core_features_know_a_device_by_its_session_not_by_its_connection() =>
        AssertNoLineMatches(TransportConnection(), "Transport's Connection in Core features (use Session and IDelivery)");

    private static void AssertNoLineMatches(Regex forbidden, string what)
    {
        var offences = new List<string>();
        foreach (string dir in FeatureFolders())
        {
            foreach (string file in Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories))
            {
                string[] lines = File.ReadAllLines(file);
                for (int i = 0; i < lines.Length; i++)
                {
                    string code = StripComment(lines[i]);
                    if (forbidden.IsMatch(code))
                        offences.Add($"{Path.GetRelativePath(RepoPaths.Root, file)}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }
        Assert.True(offences.Count == 0, what + ":\n" + string.Join('\n', offences));
    }

    /// <summary>A line without its // comment (a cref or a remark may name the old types).</summary>
    private static string StripComment(string line)
    {
        int at = line.IndexOf("//", StringComparison.Ordinal);
        return at < 0 ? line : line[..at];
    }
}
