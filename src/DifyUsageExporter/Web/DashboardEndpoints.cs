using System.Globalization;
using System.Text;
using System.Text.Json;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Web;

/// <summary>
/// The opt-in dashboard (GET /) and usage API (GET /api/usage, GET /api/cycles) on the health
/// server, all behind HTTP Basic auth; /health and /metrics stay open. See docs/operations.md.
/// </summary>
public static partial class DashboardEndpoints
{
    public const int DefaultCycleLimit = 50;
    public const int MaxCycleLimit = 1000;

    /// <summary>Registers the dashboard routes when DASHBOARD_ENABLED=true; nothing otherwise.</summary>
    public static void MapDashboard(this IEndpointRouteBuilder routes, DashboardContext context)
    {
        if (!context.Settings.Enabled)
        {
            return;
        }

        var auth = new BasicAuthentication(context.Settings.User!, context.Settings.Password!);
        var logger = context.Loggers.CreateLogger(typeof(DashboardEndpoints).FullName!);
        var group = routes.MapGroup(string.Empty);
        group.AddEndpointFilter(async (invocation, next) =>
        {
            var http = invocation.HttpContext;
            var headers = http.Response.Headers;
            headers.CacheControl = "no-store";
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            // No script at all; the one inline <style> block is the only non-default source.
            headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
            if (auth.IsAuthorized(http.Request.Headers.Authorization.ToString()))
            {
                return await next(invocation);
            }

            // A browser's first request carries no credentials; only a wrong password is worth a warning.
            if (http.Request.Headers.Authorization.Count > 0)
            {
                DashboardFailedLogin(logger, http.Connection.RemoteIpAddress?.ToString() ?? "?", http.Request.Path.ToString());
            }

            headers.WWWAuthenticate = BasicAuthentication.Challenge;
            return Results.Text("Authentication required: log in with DASHBOARD_USER and DASHBOARD_PASSWORD.\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status401Unauthorized);
        });

        DashboardEnabled(logger, context.Settings.User!);
        group.MapGet("/", (HttpRequest request, CancellationToken ct) => PageAsync(context, request, ct));
        group.MapGet("/api/usage", (HttpRequest request, CancellationToken ct) => UsageAsync(context, request, ct));
        group.MapGet("/api/cycles", (HttpRequest request, CancellationToken ct) => CyclesAsync(context, request, ct));
    }

    private static async Task<IResult> PageAsync(DashboardContext context, HttpRequest request, CancellationToken ct)
    {
        var zone = await context.ZoneAsync(ct);
        var today = UsageTime.LocalDate(context.Time.GetUtcNow(), zone);
        var query = UsageQuery.TryParse(request.Query, today, acceptBy: false, out var error);
        var model = await DashboardModel.LoadAsync(context, query ?? UsageQuery.TryParse(QueryCollection.Empty, today, false, out _)!, zone, error, ct);
        return Results.Text(DashboardPage.Render(model), "text/html; charset=utf-8", Encoding.UTF8, error is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
    }

    private static async Task<IResult> UsageAsync(DashboardContext context, HttpRequest request, CancellationToken ct)
    {
        var zone = await context.ZoneAsync(ct);
        var query = UsageQuery.TryParse(request.Query, UsageTime.LocalDate(context.Time.GetUtcNow(), zone), acceptBy: true, out var error);
        if (query is null)
        {
            return BadRequest(error!);
        }

        var groupings = await UsageRollup.BuildAsync(context.Store.ReadEventsAsync(query.From, query.To, ct), [query.By, []], ct);
        return Json(json =>
        {
            json.WriteString("from", Day(query.From));
            json.WriteString("to", Day(query.To));
            json.WriteString("timeZone", zone.Id);
            json.WriteStartArray("by");
            query.By.ToList().ForEach(d => json.WriteStringValue(UsageQuery.Name(d)));
            json.WriteEndArray();
            WriteRows(json, "rows", groupings[0]);
            // One total per currency: costs in different currencies are never added up.
            WriteRows(json, "totals", groupings[1]);
        });
    }

    private static async Task<IResult> CyclesAsync(DashboardContext context, HttpRequest request, CancellationToken ct)
    {
        var limit = DefaultCycleLimit;
        foreach (var key in request.Query.Keys.Where(k => k != "limit"))
        {
            return BadRequest($"Unknown query parameter '{key}'. Accepted: limit.");
        }

        var text = request.Query["limit"].ToString();
        if (text.Length > 0 && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxCycleLimit))
        {
            return BadRequest($"limit: '{text}' is not a whole number from 1 to {MaxCycleLimit}. Accepted: e.g. limit=20 (default {DefaultCycleLimit}).");
        }

        var cycles = await context.Store.ReadRecentCyclesAsync(limit, ct);
        var status = context.Status;
        return Json(json =>
        {
            json.WriteBoolean("running", status.Running);
            Instant(json, "lastSuccessAt", status.LastSuccess);
            Instant(json, "nextRunAt", status.NextRun);
            json.WriteStartArray("cycles");
            foreach (var cycle in cycles)
            {
                json.WriteStartObject();
                json.WriteString("id", cycle.Id);
                json.WriteString("trigger", cycle.Trigger);
                Instant(json, "startedAt", cycle.StartedAt);
                Instant(json, "finishedAt", cycle.FinishedAt);
                if (cycle.FinishedAt is { } end)
                {
                    json.WriteNumber("durationSeconds", Math.Round((end - cycle.StartedAt).TotalSeconds, 3));
                }
                else
                {
                    json.WriteNull("durationSeconds");
                }

                json.WriteString("outcome", cycle.Outcome ?? "running");
                json.WriteString("summary", context.Masker.Apply(cycle.Summary));
                json.WriteEndObject();
            }

            json.WriteEndArray();
        });
    }

    private static void WriteRows(Utf8JsonWriter json, string name, IReadOnlyList<UsageRollupRow> rows)
    {
        json.WriteStartArray(name);
        foreach (var row in rows)
        {
            json.WriteStartObject();
            if (row.Day is { } day)
            {
                json.WriteString("day", Day(day));
            }

            Optional(json, "provider", row.Provider);
            Optional(json, "model", row.Model);
            Optional(json, "appId", row.AppId);
            Optional(json, "appName", row.AppName);
            Optional(json, "userId", row.UserId);
            Optional(json, "userType", row.UserType);
            json.WriteNumber("inputTokens", row.InputTokens);
            json.WriteNumber("outputTokens", row.OutputTokens);
            json.WriteNumber("totalTokens", row.TotalTokens);
            json.WriteNumber("requests", row.Requests);
            json.WriteNumber("cost", row.Cost);
            json.WriteString("currency", row.Currency);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void Optional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void Instant(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            json.WriteString(name, Iso.Instant(v));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static IResult Json(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return Results.Bytes(buffer.ToArray(), "application/json; charset=utf-8");
    }

    private static IResult BadRequest(string message) =>
        Results.Json(new Dictionary<string, string> { ["error"] = message }, WebJson.Default.DictionaryStringString, statusCode: StatusCodes.Status400BadRequest);

    private static string Day(DateOnly day) => Iso.Day(day);

    [LoggerMessage(1701, LogLevel.Information, "Dashboard enabled: GET / (page), /api/usage, /api/cycles with HTTP Basic auth as user {User}; /health and /metrics stay open")]
    private static partial void DashboardEnabled(ILogger logger, string user);

    [LoggerMessage(1700, LogLevel.Warning, "Dashboard: a request without valid credentials from {RemoteAddress} to {Path} was refused (401)")]
    private static partial void DashboardFailedLogin(ILogger logger, string remoteAddress, string path);
}
