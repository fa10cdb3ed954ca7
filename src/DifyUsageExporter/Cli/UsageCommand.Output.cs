using System.Globalization;
using System.Text.Json;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Cli;

/// <summary>The table and the JSON document of <c>usage</c>, both with totals per currency over the whole range.</summary>
public static partial class UsageCommand
{
    /// <summary>The sums of a range's rows in one currency (costs are never added across currencies).</summary>
    public sealed record UsageTotal(string Currency, long Requests, long InputTokens, long OutputTokens, decimal Cost)
    {
        public long TotalTokens => InputTokens + OutputTokens;
    }

    /// <summary>One total per currency, in ordinal order of the currency.</summary>
    public static IReadOnlyList<UsageTotal> Totals(IReadOnlyList<UsageRow> rows) =>
        rows.GroupBy(r => r.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new UsageTotal(g.Key, g.Sum(r => r.Requests), g.Sum(r => r.InputTokens), g.Sum(r => r.OutputTokens), g.Sum(r => r.Cost)))
            .ToList();

    private static string Money(decimal cost) => UsageSums.RoundCost(cost).ToString("0.0000000", CultureInfo.InvariantCulture);

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static CliTable Table(IReadOnlyList<UsageRow> rows, UsageRequest request, HashSet<DateOnly> incomplete)
    {
        var grouped = request.By is not null;
        CliColumn[] numbers = [new("requests", true), new("input", true), new("output", true), new("total", true), new("cost", true), new("cur"), new(string.Empty)];
        var table = new CliTable(grouped ? [new("day"), new(request.By!), .. numbers] : [new("day"), .. numbers]);
        string?[] Cells(string day, string? group, long n, long input, long output, long total, decimal cost, string currency, string mark) =>
            grouped ? [day, group, Count(n), Count(input), Count(output), Count(total), Money(cost), currency, mark] : [day, Count(n), Count(input), Count(output), Count(total), Money(cost), currency, mark];

        for (var day = request.From; day <= request.To; day = day.AddDays(1))
        {
            var mark = incomplete.Contains(day) ? "INCOMPLETE" : string.Empty;
            var dayRows = rows.Where(r => r.Day == day).ToList();
            if (dayRows.Count == 0)
            {
                table.Add(grouped ? [Iso.Day(day), "(no usage)", .. Enumerable.Repeat(string.Empty, 6), mark] : [Iso.Day(day), "(no usage)", .. Enumerable.Repeat(string.Empty, 5), mark]);
                continue;
            }

            foreach (var r in dayRows)
            {
                table.Add(Cells(Iso.Day(r.Day), r.Group, r.Requests, r.InputTokens, r.OutputTokens, r.TotalTokens, r.Cost, r.Currency, mark));
            }
        }

        foreach (var t in Totals(rows))
        {
            table.Totals(Cells("total", null, t.Requests, t.InputTokens, t.OutputTokens, t.TotalTokens, t.Cost, t.Currency, incomplete.Count > 0 ? "INCOMPLETE" : string.Empty));
        }

        return table;
    }

    private static void WriteJson(Utf8JsonWriter w, IReadOnlyList<UsageRow> rows, UsageRequest request, string zone, HashSet<DateOnly> incomplete)
    {
        w.WriteStartObject();
        w.WriteString("from", Iso.Day(request.From));
        w.WriteString("to", Iso.Day(request.To));
        w.WriteString("time_zone", zone);
        w.WriteString("by", request.By);
        w.WriteStartArray("incomplete_days");
        foreach (var day in incomplete.Order())
        {
            w.WriteStringValue(Iso.Day(day));
        }

        w.WriteEndArray();
        w.WriteStartArray("rows");
        foreach (var r in rows)
        {
            w.WriteStartObject();
            w.WriteString("usage_date", Iso.Day(r.Day));
            if (request.By is not null)
            {
                w.WriteString(request.By, r.Group);
            }

            WriteSums(w, r.Requests, r.InputTokens, r.OutputTokens, r.TotalTokens, r.Cost, r.Currency);
            w.WriteBoolean("complete", !incomplete.Contains(r.Day));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("totals");
        foreach (var t in Totals(rows))
        {
            w.WriteStartObject();
            WriteSums(w, t.Requests, t.InputTokens, t.OutputTokens, t.TotalTokens, t.Cost, t.Currency);
            w.WriteBoolean("complete", incomplete.Count == 0);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteSums(Utf8JsonWriter w, long requests, long input, long output, long total, decimal cost, string currency)
    {
        w.WriteNumber("request_count", requests);
        w.WriteNumber("input_tokens", input);
        w.WriteNumber("output_tokens", output);
        w.WriteNumber("total_tokens", total);
        w.WriteNumber("cost", cost);
        w.WriteString("currency", currency);
    }
}
