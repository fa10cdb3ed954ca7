using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DifyUsageExporter.Usage;

/// <summary>How one app × day compares with Dify's own statistics (docs/usage-semantics.md §5).</summary>
public static class ReconcileStatus
{
    /// <summary>Same tokens.</summary>
    public const string Match = "match";

    /// <summary>Different, and a documented rule explains the difference (see the row's reason).</summary>
    public const string Explained = "explained";

    /// <summary>Different, and nothing explains it: a warning, exit code 1.</summary>
    public const string Unexplained = "unexplained";

    /// <summary>Dify keeps no statistics to compare with (knowledge pipelines, apps no longer listed).</summary>
    public const string Unchecked = "unchecked";

    /// <summary>Dify's statistics could not be read: nothing is proven, exit code 1.</summary>
    public const string Error = "error";
}

/// <summary>One app and account-zone day: the ledger's tokens and cost, Dify's, and the verdict.</summary>
public sealed record ReconcileRow(
    string AppId,
    string AppName,
    string AppMode,
    DateOnly Date,
    long OurTokens,
    decimal OurCost,
    long? DifyTokens,
    decimal? DifyCost,
    string Status,
    string? Reason)
{
    /// <summary>Ledger − Dify, in tokens (0 when Dify has no number).</summary>
    public long Difference => DifyTokens is { } d ? OurTokens - d : 0;
}

/// <summary>The result of comparing the ledger with Dify's statistics for days <see cref="From"/>..<see cref="To"/>.</summary>
public sealed record ReconcileReport(DateTimeOffset CheckedAt, DateOnly From, DateOnly To, string TimeZone, IReadOnlyList<ReconcileRow> Rows)
{
    public IReadOnlyList<ReconcileRow> UnexplainedRows => [.. Rows.Where(r => r.Status == ReconcileStatus.Unexplained)];

    /// <summary>Σ |difference| of the unexplained rows (the gauge <c>dify_usage_exporter_reconcile_unexplained_tokens</c>).</summary>
    public long UnexplainedTokens => Rows.Where(r => r.Status == ReconcileStatus.Unexplained).Sum(r => Math.Abs(r.Difference));

    public int Errors => Rows.Count(r => r.Status == ReconcileStatus.Error);

    /// <summary>True when every difference is explained and every statistic could be read (exit code 0).</summary>
    public bool Ok => Rows.All(r => r.Status is not (ReconcileStatus.Unexplained or ReconcileStatus.Error));

    /// <summary>The whole report as one JSON document (the <c>--json</c> output).</summary>
    public string ToJson(bool indented = true, int? maxRows = null)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            w.WriteString("checked_at", Iso.Instant(CheckedAt));
            w.WriteString("from", Day(From));
            w.WriteString("to", Day(To));
            w.WriteString("time_zone", TimeZone);
            w.WriteBoolean("ok", Ok);
            w.WriteNumber("rows_checked", Rows.Count);
            w.WriteNumber("unexplained_rows", UnexplainedRows.Count);
            w.WriteNumber("unexplained_tokens", UnexplainedTokens);
            w.WriteNumber("errors", Errors);
            w.WriteStartArray("rows");
            var rows = maxRows is { } max
                ? Rows.OrderBy(r => r.Status is ReconcileStatus.Unexplained or ReconcileStatus.Error ? 0 : 1).Take(max)
                : Rows;
            foreach (var r in rows)
            {
                w.WriteStartObject();
                w.WriteString("app_id", r.AppId);
                w.WriteString("app", r.AppName);
                w.WriteString("mode", r.AppMode);
                w.WriteString("date", Day(r.Date));
                w.WriteNumber("our_tokens", r.OurTokens);
                WriteNumber(w, "dify_tokens", r.DifyTokens);
                w.WriteNumber("difference", r.Difference);
                w.WriteString("our_cost", r.OurCost.ToString(CultureInfo.InvariantCulture));
                w.WriteString("dify_cost", r.DifyCost?.ToString(CultureInfo.InvariantCulture));
                w.WriteString("status", r.Status);
                w.WriteString("reason", r.Reason);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteNumber(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static string Day(DateOnly date) => Iso.Day(date);
}
