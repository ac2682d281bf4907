using System.Globalization;
using System.Security;
using System.Text;

namespace QkChat.LoadGen.Results;

/// <summary>
/// A minimal line chart as a self-contained SVG document (no scripts, fonts or files from elsewhere), so a result
/// directory can be opened in any browser or attached to a report as it is. Two x axes: linear (seconds) and
/// "nines" (percentiles spaced as 0 %, 90 %, 99 %, 99.9 %, the usual way to draw a latency distribution).
/// </summary>
public static class SvgChart
{
    public sealed record Series(string Name, IReadOnlyList<(double X, double Y)> Points);

    public enum XAxis { Linear, Nines }

    private const int Width = 920, Height = 460;
    private const int Left = 72, Right = 250, Top = 44, Bottom = 56;

    /// <summary>Distinguishable on white and in grey print; more series than colours reuse them.</summary>
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f", "#e377c2", "#bcbd22"];

    /// <summary>Percentile to its position on the nines axis: 90 % is 1, 99 % is 2, 99.9 % is 3.</summary>
    public static double Nines(double percentile) => -Math.Log10(Math.Max(1e-9, 1 - percentile / 100));

    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, XAxis axis)
    {
        var points = series.Select(s => s.Points.Select(p => (X: axis == XAxis.Nines ? Nines(p.X) : p.X, p.Y)).ToList()).ToList();
        var all = points.SelectMany(p => p).ToList();
        double xMin = axis == XAxis.Nines || all.Count == 0 ? 0 : Math.Min(0, all.Min(p => p.X));
        double xMax = all.Count == 0 ? 1 : axis == XAxis.Nines ? Math.Max(1, Math.Ceiling(all.Max(p => p.X) - 1e-9)) : NiceCeiling(all.Max(p => p.X));
        double yMax = all.Count == 0 ? 1 : NiceCeiling(all.Max(p => p.Y));
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double Sx(double x) => Left + (x - xMin) / (xMax - xMin) * plotW;
        double Sy(double y) => Top + plotH - y / yMax * plotH;

        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        s.Append("<title>").Append(Esc(title)).Append("</title>\n");
        s.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        s.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{Esc(title)}</text>\n");

        // Grid and tick labels.
        foreach (double y in Ticks(yMax))
        {
            s.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{F(Sy(y))}\" x2=\"{Left + plotW}\" y2=\"{F(Sy(y))}\" stroke=\"#ddd\"/>\n");
            s.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{F(Sy(y) + 4)}\" text-anchor=\"end\">{F(y)}</text>\n");
        }
        IEnumerable<double> xTicks = axis == XAxis.Nines
            ? Enumerable.Range(0, (int)xMax + 1).Select(k => (double)k)
            : Ticks(xMax).Where(x => x >= xMin);
        foreach (double x in xTicks)
        {
            string label = axis == XAxis.Nines ? NinesLabel((int)x) : F(x);
            s.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(Sx(x))}\" y1=\"{Top}\" x2=\"{F(Sx(x))}\" y2=\"{Top + plotH}\" stroke=\"#eee\"/>\n");
            s.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Sx(x))}\" y=\"{Top + plotH + 16}\" text-anchor=\"middle\">{Esc(label)}</text>\n");
        }
        s.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#444\"/>\n");
        s.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Left + plotW / 2)}\" y=\"{Height - 14}\" text-anchor=\"middle\">{Esc(xLabel)}</text>\n");
        s.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(18 {F(Top + plotH / 2)}) rotate(-90)\" text-anchor=\"middle\">{Esc(yLabel)}</text>\n");

        for (int i = 0; i < series.Count; i++)
        {
            string color = Colors[i % Colors.Length];
            // Past the palette, colours repeat dashed, so no two series look the same.
            string dash = i >= Colors.Length ? " stroke-dasharray=\"6 3\"" : "";
            string coords = string.Join(" ", points[i].Select(p => F(Sx(p.X)) + "," + F(Sy(p.Y))));
            s.Append(CultureInfo.InvariantCulture, $"<polyline class=\"series\" data-name=\"{Esc(series[i].Name)}\" fill=\"none\" stroke=\"{color}\"{dash} stroke-width=\"1.8\" points=\"{coords}\"/>\n");
            double ly = Top + 10 + i * 20;
            s.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left + plotW + 14}\" y1=\"{F(ly)}\" x2=\"{Left + plotW + 38}\" y2=\"{F(ly)}\" stroke=\"{color}\"{dash} stroke-width=\"3\"/>\n");
            s.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + plotW + 44}\" y=\"{F(ly + 4)}\">{Esc(series[i].Name)}</text>\n");
        }
        if (all.Count == 0)
            s.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Left + plotW / 2)}\" y=\"{F(Top + plotH / 2)}\" text-anchor=\"middle\">no samples</text>\n");
        s.Append("</svg>\n");
        return s.ToString();
    }

    /// <summary>1, 2 or 5 times a power of ten, at or above <paramref name="v"/>: axis ends people can read.</summary>
    public static double NiceCeiling(double v)
    {
        if (!(v > 0)) return 1;
        double power = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (double m in new[] { 1.0, 2, 5, 10 })
            if (m * power >= v * (1 - 1e-12)) return m * power;
        return 10 * power;
    }

    /// <summary>Five gridlines or so from 0 to <paramref name="max"/>.</summary>
    private static IEnumerable<double> Ticks(double max)
    {
        double step = NiceCeiling(max / 5);
        for (double t = 0; t <= max * (1 + 1e-9); t += step) yield return t;
    }

    private static string NinesLabel(int k) => k switch
    {
        0 => "0%",
        1 => "90%",
        2 => "99%",
        _ => "99." + new string('9', k - 2) + "%",
    };

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Esc(string text) => SecurityElement.Escape(text);
}
