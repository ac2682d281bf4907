using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;

namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// One kind of load. A scenario opens this process's share of connections through a <see cref="ConnectionSet"/>,
/// drives them along the shared <see cref="RunClock"/>, counts into <see cref="ScenarioContext.Stats"/>, and returns
/// once its connections are closed, by the deadline at the latest.
/// </summary>
public interface IScenario
{
    Task RunAsync(ScenarioContext context);

    /// <summary>True once every connection attempt of this process has succeeded or failed.</summary>
    bool AllAttempted { get; }

    /// <summary>This process's own memory growth per held connection, when the scenario measures it.</summary>
    ClientMemory? ClientMemory => null;

    /// <summary>login-storm's own measurements, for the result.</summary>
    StormResult? Storm => null;

    /// <summary>chat's own measurements, for the result.</summary>
    ChatResult? Chat => null;

    /// <summary>group's own measurements, for the result.</summary>
    GroupResult? Group => null;

    /// <summary>upload's own measurements, for the result.</summary>
    UploadResult? Upload => null;
}

public static class ScenarioFactory
{
    public static IScenario Create(string name) => name switch
    {
        HeartbeatScenario.Name => new HeartbeatScenario(),
        "connect" => new ConnectScenario(),
        "login-storm" => new LoginStormScenario(),
        "chat" => new ChatScenario(),
        "mixed" => new MixedScenario(),
        "group" => new GroupScenario(),
        UploadScenario.Name => new UploadScenario(),
        _ => throw new ArgumentException($"unknown scenario '{name}'", nameof(name)),
    };
}
