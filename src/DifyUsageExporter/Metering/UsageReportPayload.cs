using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DifyUsageExporter.Configuration;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Metering;

/// <summary>
/// The generic usage report of the seed-era external API (docs/delivery.md):
/// <c>{aggregation_period, output_mode, fetch_period{start,end}, app_records?, workspace_records?,
/// user_records?, model_records?}</c>; an array is present only when the mode selects it and it is
/// non-empty. Prices are 7-decimal strings as in the legacy record shapes (§4.1).
/// <c>fetch_period</c> is the half-open instant range [from 00:00, to+1 00:00) of the usage time zone, in UTC.
/// </summary>
public static class UsageReportPayload
{
    public static string ModeName(OutputMode mode) => mode switch
    {
        OutputMode.PerApp => "per_app",
        OutputMode.Workspace => "workspace",
        OutputMode.Both => "both",
        OutputMode.PerUser => "per_user",
        OutputMode.PerModel => "per_model",
        OutputMode.All => "all",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown output mode."),
    };

    public static string Build(OutputMode mode, AggregationPeriod period, DateOnly from, DateOnly to, TimeZoneInfo zone, UsageBreakdown breakdown)
    {
        var apps = mode is OutputMode.PerApp or OutputMode.Both or OutputMode.All;
        var workspace = mode is OutputMode.Workspace or OutputMode.Both or OutputMode.All;
        var users = mode is OutputMode.PerUser or OutputMode.All;
        var models = mode is OutputMode.PerModel or OutputMode.All;
        var periodName = ReportPeriods.Name(period);

        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("aggregation_period", periodName);
            w.WriteString("output_mode", ModeName(mode));
            w.WriteStartObject("fetch_period");
            w.WriteString("start", Instant(from, zone));
            w.WriteString("end", Instant(to.AddDays(1), zone));
            w.WriteEndObject();
            if (apps && breakdown.Apps.Count > 0)
            {
                w.WriteStartArray("app_records");
                foreach (var a in breakdown.Apps)
                {
                    w.WriteStartObject();
                    w.WriteString("period", a.Period);
                    w.WriteString("period_type", periodName);
                    w.WriteString("app_id", a.AppId);
                    w.WriteString("app_name", a.AppName);
                    w.WriteNumber("token_count", a.TotalTokens);
                    w.WriteString("total_price", Price(a.Cost));
                    w.WriteString("currency", a.Currency);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            if (workspace && breakdown.Workspace.Count > 0)
            {
                w.WriteStartArray("workspace_records");
                foreach (var ws in breakdown.Workspace)
                {
                    w.WriteStartObject();
                    w.WriteString("period", ws.Period);
                    w.WriteString("period_type", periodName);
                    w.WriteString("type", "workspace_total");
                    w.WriteNumber("token_count", ws.TotalTokens);
                    w.WriteString("total_price", Price(ws.Cost));
                    w.WriteString("currency", ws.Currency);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            if (users && breakdown.Users.Count > 0)
            {
                w.WriteStartArray("user_records");
                foreach (var u in breakdown.Users)
                {
                    w.WriteStartObject();
                    w.WriteString("period", u.Period);
                    w.WriteString("period_type", periodName);
                    w.WriteString("user_id", u.UserId);
                    w.WriteString("user_type", u.UserType);
                    w.WriteString("app_id", u.AppId);
                    w.WriteString("app_name", u.AppName);
                    w.WriteNumber("message_tokens", u.InputTokens);
                    w.WriteNumber("answer_tokens", u.OutputTokens);
                    w.WriteNumber("total_tokens", u.TotalTokens);
                    w.WriteNumber("message_count", u.RequestCount);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            if (models && breakdown.Models.Count > 0)
            {
                w.WriteStartArray("model_records");
                foreach (var m in breakdown.Models)
                {
                    w.WriteStartObject();
                    w.WriteString("period", m.Period);
                    w.WriteString("period_type", periodName);
                    w.WriteString("user_id", m.UserId);
                    w.WriteString("user_type", m.UserType);
                    w.WriteString("app_id", m.AppId);
                    w.WriteString("app_name", m.AppName);
                    w.WriteString("model_provider", m.Provider);
                    w.WriteString("model_name", m.Model);
                    w.WriteNumber("prompt_tokens", m.InputTokens);
                    w.WriteNumber("completion_tokens", m.OutputTokens);
                    w.WriteNumber("total_tokens", m.TotalTokens);
                    w.WriteString("total_price", Price(m.Cost));
                    w.WriteString("currency", m.Currency);
                    w.WriteNumber("execution_count", m.RequestCount);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Price(decimal cost) => DailyAggregator.RoundCost(cost).ToString("0.0000000", CultureInfo.InvariantCulture);

    private static string Instant(DateOnly date, TimeZoneInfo zone)
    {
        var local = date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        // A local midnight skipped by a DST jump does not exist: take the first instant after it.
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(30);
        }

        var utc = TimeZoneInfo.ConvertTimeToUtc(local, zone);
        return utc.ToString(Iso.InstantFormat, CultureInfo.InvariantCulture);
    }
}
