using System.Xml.Linq;
using HdrHistogram;
using QkChat.LoadGen.Results;
using QkChat.LoadGen.Run;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>The SVG charts: well-formed, self-contained, with the series they claim.</summary>
public sealed class ChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XElement[] Polylines(string svg) => [.. XDocument.Parse(svg).Descendants(Svg + "polyline")];

    [Fact]
    public void A_chart_is_well_formed_svg_with_one_polyline_per_series_and_escaped_names()
    {
        string svg = SvgChart.Render("p99 <fast> & \"slow\"", "seconds", "ms",
            [new("a<b", [(0, 1), (1, 2), (2, 3)]), new("c&d", [(0, 5), (2, 0.5)])], SvgChart.XAxis.Linear);
        XDocument doc = XDocument.Parse(svg);
        Assert.Equal(Svg + "svg", doc.Root!.Name);
        Assert.Equal("p99 <fast> & \"slow\"", doc.Root.Element(Svg + "title")!.Value);
        XElement[] lines = Polylines(svg);
        Assert.Equal(["a<b", "c&d"], lines.Select(l => l.Attribute("data-name")!.Value));
        Assert.Equal([3, 2], lines.Select(l => l.Attribute("points")!.Value.Split(' ').Length));
        // Self-contained: nothing is fetched from elsewhere.
        Assert.DoesNotContain("href", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", svg, StringComparison.Ordinal);
    }

    [Fact]
    public void Points_stay_inside_the_plot_and_higher_values_are_drawn_higher()
    {
        string svg = SvgChart.Render("t", "x", "y", [new("s", [(0, 0), (10, 7.3), (20, 3)])], SvgChart.XAxis.Linear);
        var points = Polylines(svg)[0].Attribute("points")!.Value.Split(' ')
            .Select(p => p.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.All(points, p => Assert.InRange(p[0], 0, 920));
        Assert.All(points, p => Assert.InRange(p[1], 0, 460));
        Assert.True(points[1][1] < points[2][1] && points[2][1] < points[0][1]);   // SVG y grows downwards
        Assert.True(points[0][0] < points[1][0] && points[1][0] < points[2][0]);
    }

    [Fact]
    public void The_nines_axis_puts_90_99_and_999_one_step_apart()
    {
        Assert.Equal(0, SvgChart.Nines(0), 6);
        Assert.Equal(1, SvgChart.Nines(90), 6);
        Assert.Equal(2, SvgChart.Nines(99), 6);
        Assert.Equal(3, SvgChart.Nines(99.9), 6);
        string svg = SvgChart.Render("t", "percentile", "ms", [new("s", [(0, 1), (99.9, 5)])], SvgChart.XAxis.Nines);
        XDocument doc = XDocument.Parse(svg);
        string[] labels = [.. doc.Descendants(Svg + "text").Select(t => t.Value)];
        Assert.Contains("90%", labels);
        Assert.Contains("99%", labels);
        Assert.Contains("99.9%", labels);
    }

    [Fact]
    public void An_empty_chart_says_so_and_is_still_well_formed() =>
        Assert.Contains(XDocument.Parse(SvgChart.Render("t", "x", "y", [new("s", [])], SvgChart.XAxis.Linear))
            .Descendants(Svg + "text"), t => t.Value == "no samples");

    [Theory]
    [InlineData(0.7, 1)]
    [InlineData(1, 1)]
    [InlineData(1.2, 2)]
    [InlineData(3, 5)]
    [InlineData(7, 10)]
    [InlineData(180, 200)]
    public void Axes_end_at_a_round_number(double max, double expected) => Assert.Equal(expected, SvgChart.NiceCeiling(max), 9);

    [Fact]
    public void A_finished_result_draws_p50_and_p99_per_second_and_its_distributions()
    {
        var series = new LatencySeries(0, 3);
        var perSecond = series.ToPairs();
        var second0 = LatencySeries.NewHistogram();
        for (int i = 1; i <= 100; i++) second0.RecordValue(i * 1000);
        var second2 = LatencySeries.NewHistogram();
        second2.RecordValue(7000);
        perSecond[0] = HistogramCodec.ToPairs(second0);
        perSecond[2] = HistogramCodec.ToPairs(second2);
        var delivery = RunStats.NewHistogram();
        delivery.RecordValue(3000);
        var r = new RunResult
        {
            Scenario = "chat", Connections = 2, DurationS = 3, Opened = 2,
            HistogramPairs = HistogramCodec.ToPairs(second0), SeriesPairs = perSecond,
            Chat = new ChatResult { Pairs = 1, PairsChatting = 1, SentOk = 1, Delivered = 1, DeliveryHistogramPairs = HistogramCodec.ToPairs(delivery) },
        };
        ResultBuilder.Finish(r);

        Assert.Equal([0, 2], r.LatencyOverTime!.Select(p => p.Second));   // the empty second is left out
        Assert.Equal(100, r.LatencyOverTime![0].Count);
        Assert.InRange(r.LatencyOverTime[0].P50Us, 49_000, 51_000);
        Assert.InRange(r.LatencyOverTime[0].P99Us, 98_000, 100_000);
        Assert.Equal(["send_message to `sent`", "delivery (send to push)"], r.Percentiles!.Select(c => c.Name));
        Assert.Null(r.SeriesPairs);

        XElement[] timeline = Polylines(ChartFiles.LatencyOverTimeSvg(r));
        Assert.Equal(["p50", "p99"], timeline.Select(l => l.Attribute("data-name")!.Value));
        Assert.All(timeline, l => Assert.Equal(2, l.Attribute("points")!.Value.Split(' ').Length));
        Assert.Equal(["send_message to `sent`", "delivery (send to push)"],
            Polylines(ChartFiles.PercentilesSvg(r)).Select(l => l.Attribute("data-name")!.Value));
    }

    [Fact]
    public void A_percentile_curve_rises_and_ends_at_the_maximum()
    {
        var h = RunStats.NewHistogram();
        for (int i = 1; i <= 10_000; i++) h.RecordValue(i);
        PercentileCurve curve = Charts.Curve("x", h);
        Assert.Equal(0, curve.Points[0].Percentile);
        Assert.Equal(99.99, curve.Points[^1].Percentile, 6);   // 4 nines for 10,000 samples
        Assert.Equal(h.GetMaxValue(), curve.Points[^1].LatencyUs);
        for (int i = 1; i < curve.Points.Count; i++)
        {
            Assert.True(curve.Points[i].Percentile > curve.Points[i - 1].Percentile);
            Assert.True(curve.Points[i].LatencyUs >= curve.Points[i - 1].LatencyUs);
        }
    }
}
