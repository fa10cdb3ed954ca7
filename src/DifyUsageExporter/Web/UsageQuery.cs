using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Web;

/// <summary>
/// The validated query of the dashboard (<c>from</c>, <c>to</c>) and of GET /api/usage (also
/// <c>by</c>). Days are usage days in the usage time zone; the default range is the last 30 days
/// up to today. Every problem becomes a 400 naming the parameter and the accepted form.
/// </summary>
internal sealed record UsageQuery(DateOnly From, DateOnly To, IReadOnlyList<UsageDimension> By)
{
    public const int DefaultDays = 30;
    public const int MaxDays = 731;

    private static readonly Dictionary<string, UsageDimension> Dimensions = new(StringComparer.Ordinal)
    {
        ["day"] = UsageDimension.Day,
        ["model"] = UsageDimension.Model,
        ["app"] = UsageDimension.App,
        ["user"] = UsageDimension.User,
    };

    public static string Name(UsageDimension dimension) => Dimensions.First(d => d.Value == dimension).Key;

    /// <summary>Parses the query; <paramref name="acceptBy"/> false = the page (no by parameter).</summary>
    public static UsageQuery? TryParse(IQueryCollection query, DateOnly today, bool acceptBy, out string? error)
    {
        error = null;
        string[] accepted = acceptBy ? ["from", "to", "by"] : ["from", "to"];
        foreach (var (key, values) in query)
        {
            if (!accepted.Contains(key, StringComparer.Ordinal))
            {
                error = $"Unknown query parameter '{key}'. Accepted: {string.Join(", ", accepted)}.";
                return null;
            }

            if (values.Count > 1)
            {
                error = $"The query parameter '{key}' is given {values.Count} times. Accepted: each of {string.Join(", ", accepted)} at most once.";
                return null;
            }
        }

        if (!TryDay(query, "from", out var from, out error) || !TryDay(query, "to", out var to, out error))
        {
            return null;
        }

        var end = to ?? (from is { } f && f.AddDays(DefaultDays - 1) < today ? f.AddDays(DefaultDays - 1) : today);
        var start = from ?? end.AddDays(-(DefaultDays - 1));
        if (start > end)
        {
            error = $"from ({Day(start)}) is after to ({Day(end)}). Accepted: from <= to.";
            return null;
        }

        if (end.DayNumber - start.DayNumber + 1 > MaxDays)
        {
            error = $"The range {Day(start)}..{Day(end)} has {end.DayNumber - start.DayNumber + 1} days. Accepted: at most {MaxDays} days; split it into several requests.";
            return null;
        }

        var by = new List<UsageDimension>();
        const string ByForm = "Accepted: a comma-separated list of day, model, app, user (e.g. by=day,model).";
        if (acceptBy && query.ContainsKey("by"))
        {
            foreach (var part in query["by"].ToString().Split(',', StringSplitOptions.TrimEntries))
            {
                if (!Dimensions.TryGetValue(part.ToLowerInvariant(), out var dimension))
                {
                    error = $"by: '{part}' is not a dimension. {ByForm}";
                    return null;
                }

                if (by.Contains(dimension))
                {
                    error = $"by: '{part}' is given twice. {ByForm}";
                    return null;
                }

                by.Add(dimension);
            }
        }

        return new UsageQuery(start, end, by.Count == 0 ? [UsageDimension.Day] : by);
    }

    private static bool TryDay(IQueryCollection query, string name, out DateOnly? day, out string? error)
    {
        day = null;
        error = null;
        var text = query[name].ToString().Trim();
        if (text.Length == 0)
        {
            return true;
        }

        if (Iso.TryParseDay(text) is { } parsed)
        {
            day = parsed;
            return true;
        }

        error = $"{name}: '{text}' is not a date. Accepted: YYYY-MM-DD, a usage day in the usage time zone, e.g. {name}=2026-03-01.";
        return false;
    }

    private static string Day(DateOnly day) => Iso.Day(day);
}
