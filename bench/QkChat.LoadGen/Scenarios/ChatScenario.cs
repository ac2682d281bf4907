namespace QkChat.LoadGen.Scenarios;

/// <summary>
/// issue 5/6 chat: pairs of friends message each other, each user sending `send_message` to its partner at --rate
/// with --pipeline in flight and acknowledging what it receives (<see cref="PairScenario"/> does the rest). Every
/// message must arrive once and in order.
/// </summary>
public sealed class ChatScenario : PairScenario
{
    protected override Task UserLoopAsync(ChatUser user) => user.SendLoopAsync();
}
