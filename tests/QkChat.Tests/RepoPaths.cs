namespace QkChat.Tests;

/// <summary>Finds the checkout root (the folder holding QkChat.sln) from the test binary's location.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "QkChat.sln"))) return dir.FullName;
        throw new InvalidOperationException("QkChat.sln not found above " + AppContext.BaseDirectory);
    }
}
