using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Simulators.Meter;

/// <summary>
/// A fake API_Meter on loopback: Bearer check (401), strict request validation (400 naming the
/// field), the real UPSERT on (tenant_id, provider, model, usage_date) answering
/// <c>{success, processed_records, inserted, updated, total}</c>, scripted faults (503 sequences,
/// 429 with Retry-After, slow answers, aborted connections, "applied but the answer was lost") and
/// a full outage (<see cref="TakeDownAsync"/>: connection refused until <see cref="BringUpAsync"/>).
/// Every request is logged for assertions.
/// </summary>
public sealed class FakeApiMeter : IAsyncDisposable
{
    public const string DefaultPath = "/api/integrations/dify/usage-data/receive";

    /// <summary><c>GET</c> here returns the stored rows as JSON (snake_case), for benchmarks.</summary>
    public const string RowsPath = "/_sim/rows";

    private static readonly JsonSerializerOptions RowsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly ConcurrentQueue<MeterFault> faults = new();
    private readonly ConcurrentQueue<MeterRequestLog> requests = new();
    private readonly Dictionary<(string, string, string, string), MeterRow> rows = [];
    private readonly Lock gate = new();
    private readonly string path;
    private readonly string host;
    private WebApplication? app;

    private FakeApiMeter(string token, string host, int port, string path)
    {
        Token = token;
        this.host = host;
        Port = port;
        this.path = path;
    }

    public string Token { get; }

    public int Port { get; private set; }

    /// <summary>The complete endpoint URL (what EXTERNAL_API_URL must be).</summary>
    public Uri Url => new($"http://{host}:{Port.ToString(CultureInfo.InvariantCulture)}{path}");

    /// <summary>Fault applied to every request while set (after the scripted queue is empty); null = healthy.</summary>
    public MeterFault? PersistentFault { get; set; }

    public IReadOnlyList<MeterRequestLog> Requests => requests.ToList();

    /// <summary>Starts a server on 127.0.0.1 (port 0 = any free port).</summary>
    public static async Task<FakeApiMeter> StartAsync(string token, int port = 0, string path = DefaultPath, string host = "127.0.0.1")
    {
        var meter = new FakeApiMeter(token, host, port, path);
        await meter.BringUpAsync().ConfigureAwait(false);
        return meter;
    }

    /// <summary>Queues faults, each consumed by one request, in order.</summary>
    public void Enqueue(params MeterFault[] scripted)
    {
        foreach (var fault in scripted)
        {
            faults.Enqueue(fault);
        }
    }

    public int PendingFaults => faults.Count;

    /// <summary>A snapshot of the stored rows.</summary>
    public IReadOnlyList<MeterRow> Rows()
    {
        lock (gate)
        {
            return rows.Values.OrderBy(r => r.UsageDate, StringComparer.Ordinal).ThenBy(r => r.Provider, StringComparer.Ordinal).ThenBy(r => r.Model, StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>Stops listening: connections are refused until <see cref="BringUpAsync"/>. Stored rows are kept.</summary>
    public async Task TakeDownAsync()
    {
        if (app is not null)
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            app = null;
        }
    }

    /// <summary>(Re)starts listening on the same port.</summary>
    public async Task BringUpAsync()
    {
        if (app is not null)
        {
            return;
        }

        var builder = LoopbackWeb.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(System.Net.IPAddress.Parse(host), Port));
        var web = builder.Build();
        web.Run(HandleAsync);
        await web.StartAsync().ConfigureAwait(false);
        var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
        app = web;
    }

    public async ValueTask DisposeAsync() => await TakeDownAsync().ConfigureAwait(false);

    private async Task HandleAsync(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path == RowsPath)
        {
            // For benchmarks in another process: what the server holds (not logged as a request).
            await WriteAsync(context, 200, JsonSerializer.Serialize(Rows(), RowsJson)).ConfigureAwait(false);
            return;
        }

        // When the request arrived, not when it was logged: a scripted slow answer, or the abort of a
        // client killed mid-request, is logged seconds later on a loaded machine, and the replica test
        // asks what arrived after a kill (ReplicaFailoverTests once saw a killed replica's last request
        // logged more than a second after its death).
        var receivedAt = TimeProvider.System.GetUtcNow();
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        var auth = context.Request.Headers.Authorization.ToString();
        MeterFault? fault = null;
        if (context.Request.Path == path && HttpMethods.IsPost(context.Request.Method))
        {
            fault = faults.TryDequeue(out var f) ? f : PersistentFault;
        }

        void Log(int status, int records) => requests.Enqueue(new MeterRequestLog(receivedAt, context.Request.Method, context.Request.Path.ToString(), auth, status, body, records, fault?.Kind.ToString()));

        if (fault is { Kind: MeterFaultKind.Slow })
        {
            try
            {
                await Task.Delay(fault.Delay, TimeProvider.System, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The client gave up (its timeout): nothing was applied.
                Log(0, 0);
                return;
            }
        }

        switch (fault?.Kind)
        {
            case MeterFaultKind.Status:
                Log(fault.Status, 0);
                await WriteAsync(context, fault.Status, $$"""{"error":"SIMULATED_{{fault.Status}}"}""").ConfigureAwait(false);
                return;
            case MeterFaultKind.TooManyRequests:
                Log(429, 0);
                context.Response.Headers.RetryAfter = fault.RetryAfter ?? "1";
                await WriteAsync(context, 429, """{"error":"RATE_LIMITED"}""").ConfigureAwait(false);
                return;
            case MeterFaultKind.Abort:
                Log(0, 0);
                context.Abort();
                return;
            case MeterFaultKind.SuccessFalse:
                Log(200, 0);
                await WriteAsync(context, 200, """{"success":false,"error":"INTERNAL_ERROR","message":"Failed to store usage records"}""").ConfigureAwait(false);
                return;
            case MeterFaultKind.Html200:
                Log(200, 0);
                context.Response.StatusCode = 200;
                context.Response.ContentType = "text/html; charset=utf-8";
                await context.Response.WriteAsync("<!DOCTYPE html>\n<html><head><title>Maintenance</title></head><body><h1>We'll be back soon</h1></body></html>").ConfigureAwait(false);
                return;
            case MeterFaultKind.CountZero:
                Log(200, 0);
                await WriteAsync(context, 200, """{"success":true,"processed_records":0,"inserted":0,"updated":0,"total":0}""").ConfigureAwait(false);
                return;
        }

        if (context.Request.Path != path)
        {
            Log(404, 0);
            await WriteAsync(context, 404, """{"error":"NOT_FOUND"}""").ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(context.Request.Method))
        {
            Log(405, 0);
            await WriteAsync(context, 405, """{"error":"METHOD_NOT_ALLOWED"}""").ConfigureAwait(false);
            return;
        }

        if (auth != "Bearer " + Token)
        {
            Log(401, 0);
            await WriteAsync(context, 401, """{"error":"AUTH_TOKEN_INVALID","message":"Invalid or missing bearer token"}""").ConfigureAwait(false);
            return;
        }

        var parsed = MeterValidator.Validate(body, out var field, out var problem);
        if (parsed is null)
        {
            Log(400, 0);
            await WriteAsync(context, 400, JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = "VALIDATION_ERROR", ["field"] = field!, ["message"] = $"{field}: {problem}" })).ConfigureAwait(false);
            return;
        }

        var (tenant, records) = parsed.Value;
        if (fault is { Kind: MeterFaultKind.RejectModel } && records.Select((r, i) => (r, i)).FirstOrDefault(x => x.r.Model == fault.Model) is { r: not null } bad)
        {
            Log(fault.Status, 0);
            var badField = string.Create(CultureInfo.InvariantCulture, $"records[{bad.i}].model");
            await WriteAsync(context, fault.Status, JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = "VALIDATION_ERROR", ["field"] = badField, ["message"] = $"{badField}: unknown model {bad.r.Model} for provider {bad.r.Provider}" })).ConfigureAwait(false);
            return;
        }

        int inserted = 0, updated = 0;
        lock (gate)
        {
            foreach (var r in records)
            {
                var key = (tenant, r.Provider, r.Model, r.UsageDate);
                var writes = 1;
                if (rows.TryGetValue(key, out var old))
                {
                    updated++;
                    writes = old.Writes + 1;
                }
                else
                {
                    inserted++;
                }

                rows[key] = new MeterRow(tenant, r.Provider, r.Model, r.UsageDate, r.Input, r.Output, r.Total, r.RequestCount, r.Cost, r.Currency, r.SourceEventId, writes);
            }
        }

        if (fault?.Kind == MeterFaultKind.ApplyThenAbort)
        {
            Log(0, records.Count);
            context.Abort();
            return;
        }

        if (fault?.Kind == MeterFaultKind.ApplyThenError)
        {
            Log(500, records.Count);
            await WriteAsync(context, 500, """{"error":"SIMULATED_AFTER_APPLY"}""").ConfigureAwait(false);
            return;
        }

        Log(200, records.Count);
        await WriteAsync(context, 200, string.Create(CultureInfo.InvariantCulture, $$"""{"success":true,"processed_records":{{records.Count}},"inserted":{{inserted}},"updated":{{updated}},"total":{{records.Count}}}""")).ConfigureAwait(false);
    }

    private static async Task WriteAsync(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json).ConfigureAwait(false);
    }
}
