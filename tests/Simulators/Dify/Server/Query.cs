using System.Globalization;

namespace Simulators.Dify;

/// <summary>Query-string parsing with Dify's validation errors.</summary>
internal static class Query
{
    /// <summary>An int in [min, max] or the default; anything else is 400 <c>invalid_param</c>.</summary>
    public static (int Value, DifyResult? Error) Int(HttpContext ctx, string name, int def, int min, int max)
    {
        var raw = ctx.Request.Query[name].ToString();
        if (raw.Length == 0)
        {
            return (def, null);
        }

        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            return (0, DifyResult.InvalidParam($"{name}: Input should be a valid integer, unable to parse string as an integer", name));
        }

        if (v < min)
        {
            return (0, DifyResult.InvalidParam($"{name}: Input should be greater than or equal to {min}", name));
        }

        return v > max ? (0, DifyResult.InvalidParam($"{name}: Input should be less than or equal to {max}", name)) : (v, null);
    }

    public static string? Str(HttpContext ctx, string name)
    {
        var v = ctx.Request.Query[name].ToString();
        return v.Length == 0 ? null : v;
    }

    /// <summary>Parses <c>YYYY-MM-DD HH:MM</c> in the account zone (ambiguous → later instant, gap → shifted forward).</summary>
    public static (DateTimeOffset? Value, DifyResult? Error) LocalMinute(HttpContext ctx, string name, TimeZoneInfo zone)
    {
        var raw = Str(ctx, name);
        if (raw is null)
        {
            return (null, null);
        }

        if (!DateTime.TryParseExact(raw, "yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return (null, DifyResult.InvalidParam($"Invalid {name} time format: {raw}", name));
        }

        return (ToUtc(local, zone), null);
    }

    public static DateTimeOffset ToUtc(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            local = local.AddHours(1);
        }

        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Min() : zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }

    /// <summary>ISO-8601 (<c>dateutil.isoparse</c>); no offset = UTC.</summary>
    public static (DateTimeOffset? Value, DifyResult? Error) Iso(HttpContext ctx, string name)
    {
        var raw = Str(ctx, name);
        if (raw is null)
        {
            return (null, null);
        }

        return DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var v)
            ? (v, null)
            : (null, DifyResult.InvalidParam($"{name}: Invalid isoformat string: '{raw}'", name));
    }

    public static (Guid? Value, bool Ok) Uuid(string? raw)
        => raw is null ? (null, true) : Guid.TryParse(raw, out var g) ? (g, true) : (null, false);
}
