using QkChat.Protocol;

namespace QkChat.Core.Dispatch;

/// <summary>
/// One reactor's request counters: requests by action and result code, and a latency histogram per action. Only
/// the reactor that owns the connections writes it (a request is answered on its connection's reactor, sync or via
/// PendingResponse), so recording is plain increments of preallocated arrays: no lock, no interlocked, no allocation.
/// Readers on other threads sum every reactor's instance (<see cref="RequestMetrics"/>) with Volatile.Read; a 64-bit
/// aligned read is never torn, and a read racing a write sees the count before or after it.
/// </summary>
public sealed class RequestStats
{
    /// <summary>
    /// Row 0 holds requests answered before reaching a handler: bad JSON or envelope, unknown action, rate limited,
    /// not logged in. Their action names are the client's (unbounded), so they share this row; route i is row i + 1.
    /// </summary>
    public const int RejectedRow = 0;

    /// <summary>The action label of <see cref="RejectedRow"/>.</summary>
    public const string RejectedAction = "(rejected)";

    /// <summary>The code label of a response whose code is not in protocol.md §3 (none today; a guard, not a bucket to use).</summary>
    public const string OtherCode = "OTHER";

    /// <summary>The columns: every code of <see cref="ErrorCodes"/>, then <see cref="OtherCode"/>.</summary>
    public static readonly string[] Codes =
    [
        ErrorCodes.Ok, ErrorCodes.BadJson, ErrorCodes.BadFrame, ErrorCodes.FrameTooLarge, ErrorCodes.UnknownAction,
        ErrorCodes.InvalidArgument, ErrorCodes.Unauthenticated, ErrorCodes.Forbidden, ErrorCodes.NotFound,
        ErrorCodes.AlreadyExists, ErrorCodes.InvalidCredentials, ErrorCodes.InvalidCode, ErrorCodes.CodeExpired,
        ErrorCodes.TokenInvalid, ErrorCodes.NotFriends, ErrorCodes.RecallWindowExpired, ErrorCodes.RateLimited,
        ErrorCodes.ServerBusy, ErrorCodes.Unavailable, ErrorCodes.Internal, OtherCode,
    ];

    private static readonly int CodeCount = Codes.Length;
    private static readonly int BucketCount = LatencyBuckets.Count;

    private readonly long[] _counts;
    private readonly long[] _buckets;
    private readonly long[] _sumTicks;

    /// <param name="rows">Routes + 1 (the rejected row).</param>
    public RequestStats(int rows)
    {
        Rows = rows;
        _counts = new long[rows * CodeCount];
        _buckets = new long[rows * BucketCount];
        _sumTicks = new long[rows];
    }

    /// <summary>Rows this instance counts; a route registered after it was made is not counted here.</summary>
    public int Rows { get; }

    /// <summary>
    /// Codes that say the server failed the request, not the client: the error-rate alert counts these
    /// (docs/observability.md). RATE_LIMITED and the argument and permission codes are the client's doing.
    /// </summary>
    public static bool IsServerError(int codeIndex) =>
        Codes[codeIndex] is ErrorCodes.Internal or ErrorCodes.Unavailable or ErrorCodes.ServerBusy;

    /// <summary>The column of <paramref name="code"/>: a reference comparison finds the constants (interned literals) at once.</summary>
    public static int CodeIndex(string code)
    {
        var codes = Codes;
        for (int i = 0; i < codes.Length; i++)
            if ((object)codes[i] == code) return i;
        for (int i = 0; i < codes.Length; i++)
            if (string.Equals(codes[i], code, StringComparison.Ordinal)) return i;
        return codes.Length - 1;
    }

    /// <summary>Counts one answered request. Call only on the owning reactor.</summary>
    public void Record(int row, string code, long elapsedTicks)
    {
        if ((uint)row >= (uint)Rows) return;
        if (elapsedTicks < 0) elapsedTicks = 0;
        _counts[row * CodeCount + CodeIndex(code)]++;
        _buckets[row * BucketCount + LatencyBuckets.IndexOf(elapsedTicks)]++;
        _sumTicks[row] += elapsedTicks;
    }

    public long Count(int row, int codeIndex) => Volatile.Read(ref _counts[row * CodeCount + codeIndex]);

    public long Bucket(int row, int bucket) => Volatile.Read(ref _buckets[row * BucketCount + bucket]);

    public long SumTicks(int row) => Volatile.Read(ref _sumTicks[row]);
}
