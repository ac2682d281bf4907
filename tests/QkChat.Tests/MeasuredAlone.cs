using Xunit;

namespace QkChat.Tests;

/// <summary>
/// The tests that count bytes allocated on their thread or CPU time, run one at a time and after every parallel test
/// has finished (xunit runs a collection with parallelization disabled on its own). They measure process-wide state:
/// a heartbeat takes its response frame from OutboundFrame's process-wide object pool, so while another test (another
/// allocation test included) holds frames, the pool is short and the heartbeat allocates a new frame on the measuring
/// thread: 568 B each (a 32-byte OutboundFrame and its 536-byte byte[512]), the 568 B and 2,272 B failures of full
/// runs. Alone, the budget can stay exact (0 B) instead of being widened to hide that.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuredAlone
{
    public const string Name = "Measured alone: allocation and CPU-time tests";
}
