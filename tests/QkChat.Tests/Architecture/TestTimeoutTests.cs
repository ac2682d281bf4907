using System.Reflection;
using System.Runtime.Loader;
using Xunit;

namespace QkChat.Tests.Architecture;

/// <summary>
/// Every async test of both test assemblies has an xunit Timeout, so a hang fails that test by name instead of
/// stalling CI. xunit v3 only runs a Timeout on async tests (a synchronous test with one fails with "Tests marked with
/// Timeout are only supported for async tests"), so synchronous tests carry deadlines in their own waits instead.
/// The integration assembly is read from its build output next to this one (same configuration), in a load context
/// of its own; attributes are read as data (CustomAttributeData), never constructed.
/// </summary>
public sealed class TestTimeoutTests
{
    [Fact]
    public void Every_async_test_in_both_test_assemblies_has_a_timeout()
    {
        var problems = new List<string>();
        int asyncTests = 0;
        foreach (var assembly in new[] { typeof(TestTimeoutTests).Assembly, IntegrationAssembly() })
        {
            foreach (var method in TestMethods(assembly))
            {
                var test = method.GetCustomAttributesData().First(IsTestAttribute);
                int timeout = test.NamedArguments.Where(a => a.MemberName == "Timeout").Select(a => (int)a.TypedValue.Value!).FirstOrDefault();
                bool isAsync = typeof(Task).IsAssignableFrom(method.ReturnType) || method.ReturnType.FullName?.StartsWith("System.Threading.Tasks.ValueTask", StringComparison.Ordinal) == true;
                string name = $"{assembly.GetName().Name}: {method.DeclaringType!.FullName}.{method.Name}";
                if (isAsync) asyncTests++;
                if (isAsync && timeout <= 0) problems.Add(name + " is async without a Timeout");
                if (!isAsync && timeout > 0) problems.Add(name + " is synchronous with a Timeout (xunit fails it)");
            }
        }
        Assert.True(asyncTests > 100, $"only {asyncTests} async tests found: the integration assembly was not read?");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static bool IsTestAttribute(CustomAttributeData attribute)
    {
        for (var type = attribute.AttributeType; type is not null; type = type.BaseType)
            if (type.FullName is "Xunit.FactAttribute") return true; // TheoryAttribute and custom facts derive from it
        return false;
    }

    private static IEnumerable<MethodInfo> TestMethods(Assembly assembly) =>
        assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttributesData().Any(IsTestAttribute));

    private static Assembly IntegrationAssembly()
    {
        // .../tests/QkChat.Tests/bin/<Configuration>/<tfm>/ -> .../tests/QkChat.IntegrationTests/bin/<Configuration>/<tfm>/
        var own = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string configuration = own.Parent!.Name, framework = own.Name;
        string dir = Path.Combine(RepoPaths.Root, "tests", "QkChat.IntegrationTests", "bin", configuration, framework);
        string path = Path.Combine(dir, "QkChat.IntegrationTests.dll");
        Assert.True(File.Exists(path), $"{path} not built: build the solution (make build) before the unit tests");
        var context = new AssemblyLoadContext("integration-tests-for-reflection");
        // Assemblies both share come from this process's own context; the rest from the integration output.
        context.Resolving += (ctx, name) =>
        {
            string candidate = Path.Combine(dir, name.Name + ".dll");
            return File.Exists(candidate) ? ctx.LoadFromAssemblyPath(candidate) : null;
        };
        return context.LoadFromAssemblyPath(path);
    }
}
