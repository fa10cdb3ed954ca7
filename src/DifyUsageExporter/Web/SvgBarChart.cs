using System.Globalization;
using System.Net;
using System.Text;

namespace DifyUsageExporter.Web;

/// <summary>
/// A server-rendered SVG bar chart (no script, no external library): one bar per day, each bar
/// split into up to two stacked series, a &lt;title&gt; per bar for the exact value, a scale line
/// and sparse day labels. Scales to the page width through its viewBox.
/// </summary>
internal static class SvgBarChart
{
    private const int Width = 720;
    private const int Height = 220;
    private const int Left = 96;
    private const int Bottom = 34;
    private const int Top = 20;

    public sealed record Bar(DateOnly Day, decimal Lower, decimal Upper, string Title);

    public static string Render(string id, string label, IReadOnlyList<Bar> bars, Func<decimal, string> scaleLabel, string lowerClass, string upperClass)
    {
        var max = bars.Count == 0 ? 0 : bars.Max(b => b.Lower + b.Upper);
        var top = max <= 0 ? 1 : max;
        var plotWidth = Width - Left - 8;
        var plotHeight = Height - Top - Bottom;
        var step = bars.Count == 0 ? plotWidth : (double)plotWidth / bars.Count;
        var barWidth = Math.Max(1, step * 0.8);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{Encode(label)}\" xmlns=\"http://www.w3.org/2000/svg\">");
        svg.Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top + plotHeight}\" x2=\"{Width - 8}\" y2=\"{Top + plotHeight}\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" y1=\"{Top}\" x2=\"{Width - 8}\" y2=\"{Top}\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text class=\"scale\" x=\"{Left - 6}\" y=\"{Top + 6}\" text-anchor=\"end\">{Encode(scaleLabel(max))}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text class=\"scale\" x=\"{Left - 6}\" y=\"{Top + plotHeight}\" text-anchor=\"end\">0</text>");
        var labelEvery = Math.Max(1, (int)Math.Ceiling(bars.Count / 6.0));
        for (var i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var x = Left + (i * step) + ((step - barWidth) / 2);
            var lowerHeight = (double)(bar.Lower / top) * plotHeight;
            var upperHeight = (double)(bar.Upper / top) * plotHeight;
            var baseY = Top + plotHeight;
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"bar\" data-day=\"{Day(bar.Day)}\"><title>{Encode(bar.Title)}</title>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"{lowerClass}\" x=\"{x:0.##}\" y=\"{baseY - lowerHeight:0.##}\" width=\"{barWidth:0.##}\" height=\"{lowerHeight:0.##}\"/>");
            if (bar.Upper > 0)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"{upperClass}\" x=\"{x:0.##}\" y=\"{baseY - lowerHeight - upperHeight:0.##}\" width=\"{barWidth:0.##}\" height=\"{upperHeight:0.##}\"/>");
            }

            svg.Append("</g>");
            if (i % labelEvery == 0)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<text class=\"day\" x=\"{x + (barWidth / 2):0.##}\" y=\"{Height - 8}\" text-anchor=\"middle\">{bar.Day:MM-dd}</text>");
            }
        }

        return svg.Append("</svg>").ToString();
    }

    private static string Day(DateOnly day) => Iso.Day(day);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
