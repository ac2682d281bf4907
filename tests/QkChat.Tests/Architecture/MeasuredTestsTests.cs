using Xunit;

namespace QkChat.Tests.Architecture;

/// <summary>
/// A test that counts its thread's allocated bytes or the process's CPU time measures state other tests share (object
/// pools, the JIT, the CPU), so it runs in <see cref="MeasuredAlone"/>, where nothing runs beside it. This reads the test
/// sources so that a new measuring test cannot be added to the parallel part by forgetting the attribute.
/// </summary>
public sealed class MeasuredTestsTests
{
    private static readonly string[] MeasuringCalls =
        ["GetAllocatedBytesForCurrentThread", "GetTotalAllocatedBytes", "TotalProcessorTime", "UserProcessorTime"];

    [Fact]
    public void Every_test_file_that_counts_allocations_or_cpu_time_runs_in_the_measured_alone_collection()
    {
        var offenders = new List<string>();
        foreach (string project in new[] { "tests/QkChat.Tests", "tests/QkChat.IntegrationTests" })
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, project), "*.cs", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(RepoPaths.Root, file);
                if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal)) continue;
                if (relative.EndsWith("Architecture/MeasuredTestsTests.cs", StringComparison.Ordinal)) continue; // names the calls
                string text = File.ReadAllText(file);
                if (!MeasuringCalls.Any(text.Contains)) continue;
                // The integration assembly has no such collection yet: a measuring test there needs one of its own.
                if (!text.Contains("[Collection(MeasuredAlone.Name)]", StringComparison.Ordinal)) offenders.Add(relative);
            }
        }
        Assert.True(offenders.Count == 0,
            "these files measure allocations or CPU time outside [Collection(MeasuredAlone.Name)]: " + string.Join(", ", offenders));
    }
}
