using HdrHistogram;
using HdrHistogram.Utilities;

namespace QkChat.LoadGen.Results;

/// <summary>
/// Histograms between processes and into the result. Workers send [value, count] pairs of recorded buckets:
/// re-recording a bucket's value lands in the same bucket, so merging is exact. (HdrHistogram 2.5.0's own decoder
/// builds the histogram through reflection on constructors and fails under Native AOT.) The final result also
/// carries the standard compressed V2 encoding, base64, which HdrHistogram's plotters and log tools read.
/// </summary>
public static class HistogramCodec
{
    public static long[][] ToPairs(HistogramBase histogram)
    {
        var pairs = new List<long[]>();
        foreach (var bucket in histogram.RecordedValues())
            pairs.Add([bucket.ValueIteratedTo, bucket.CountAtValueIteratedTo]);
        return [.. pairs];
    }

    public static void AddPairs(HistogramBase into, long[][]? pairs)
    {
        if (pairs is null) return;
        foreach (long[] pair in pairs)
        {
            if (pair.Length != 2 || pair[1] <= 0) continue;
            into.RecordValueWithCount(Math.Clamp(pair[0], 1, into.HighestTrackableValue), pair[1]);
        }
    }

    /// <summary>HdrHistogram V2 compressed encoding ("HISTFAAA..."), base64.</summary>
    public static string Encode(HistogramBase histogram)
    {
        var buffer = ByteBuffer.Allocate(histogram.GetNeededByteBufferCapacity());
        int length = histogram.EncodeIntoCompressedByteBuffer(buffer);
        // ByteBuffer hides its array (ToArray is internal in 2.5.0): read the encoded bytes back one by one.
        var bytes = new byte[length];
        buffer.Position = 0;
        for (int i = 0; i < length; i++) bytes[i] = buffer.Get();
        return Convert.ToBase64String(bytes);
    }

    public static LatencySummary? Summarize(HistogramBase histogram)
    {
        if (histogram.TotalCount == 0) return null;
        return new LatencySummary
        {
            Count = histogram.TotalCount,
            Mean = Math.Round(histogram.GetMean(), 1),
            P50 = histogram.GetValueAtPercentile(50),
            P90 = histogram.GetValueAtPercentile(90),
            P99 = histogram.GetValueAtPercentile(99),
            P999 = histogram.GetValueAtPercentile(99.9),
            Max = histogram.GetMaxValue(),
        };
    }
}
