using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace DifyUsageExporter.Tests.Dify;

public enum FakeAuthMode { Legacy, Cookie, CookieBase64 }

/// <summary>
/// A small hand-written Dify console (HttpMessageHandler) for client tests: auth eras, cookie
/// naming, CSRF on every call, token expiry on a manual clock, rotating refresh tokens, login
/// lock, and the recorded answers under Fixtures/dify. The full simulator lives in
/// tests/Simulators; this one keeps unit tests independent of it.
/// </summary>
public sealed partial class FakeDify : HttpMessageHandler
{
    public const string SupportBot = "3a6b1c2d-7e8f-4a90-b1c2-d3e4f5a6b7c8";
    public const string InvoiceExtractor = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
    public const string Conversation = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e";
    public const string AccountId = "8f2c1d3e-4b5a-4c6d-9e7f-0a1b2c3d4e5f";

    private readonly FakeClock time;
    private readonly ConcurrentDictionary<string, DateTimeOffset> accessTokens = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> csrfTokens = new();
    private readonly ConcurrentDictionary<string, byte> refreshTokens = new();
    private int counter;
    private int failures;

    public FakeDify(FakeClock time, FakeAuthMode mode)
    {
        this.time = time;
        Mode = mode;
        Version = mode switch { FakeAuthMode.Legacy => "1.4.3", FakeAuthMode.Cookie => "1.9.2", _ => "1.11.1" };
        Apps = JsonNode.Parse(Fixtures.Read("console-apps.json"))!["data"]!.AsArray();
    }

    public FakeAuthMode Mode { get; }
    public string? Version { get; set; }
    public bool Secure { get; set; }
    public string? CookieDomain { get; set; }
    public string Email { get; set; } = "ops@example.com";
    public string Password { get; set; } = "S3cure-Passw0rd!";
    public TimeSpan TokenTtl { get; set; } = TimeSpan.FromHours(1);
    public string TimeZone { get; set; } = "Asia/Tokyo";
    public bool NoWorkspace { get; set; }
    public string? AdminKey { get; set; }
    public JsonArray Apps { get; }

    /// <summary>Lets a test answer a request itself (fault injection); null = normal handling.</summary>
    public Func<HttpRequestMessage, HttpResponseMessage?>? Intercept { get; set; }

    /// <summary>Latency per request (real time; the client's timeout cancels it).</summary>
    public Func<HttpRequestMessage, TimeSpan>? Latency { get; set; }

    private int logins;
    private int failedLogins;
    private int refreshes;
    private int refreshRejections;

    public int Logins => Volatile.Read(ref logins);
    public int FailedLogins => Volatile.Read(ref failedLogins);
    public int Refreshes => Volatile.Read(ref refreshes);
    public int RefreshRejections => Volatile.Read(ref refreshRejections);
    public ConcurrentQueue<string> LoginPasswords { get; } = new();
    public ConcurrentQueue<HttpRequestMessage> Requests { get; } = new();
    public ConcurrentQueue<string> Paths { get; } = new();

    private string Name(string baseName) => Secure && CookieDomain is null ? "__Host-" + baseName : baseName;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        Paths.Enqueue(request.RequestUri!.PathAndQuery);
        if (Latency?.Invoke(request) is { } delay && delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, TimeProvider.System, cancellationToken);
        }

        string? body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var response = Intercept?.Invoke(request) ?? Handle(request, body);
        response.RequestMessage = request;
        if (Version is not null)
        {
            response.Headers.TryAddWithoutValidation("X-Version", Version);
        }

        return response;
    }

    private HttpResponseMessage Handle(HttpRequestMessage request, string? body)
    {
        var path = request.RequestUri!.AbsolutePath;
        var query = System.Web.HttpUtility.ParseQueryString(request.RequestUri.Query);
        switch (path)
        {
            case "/console/api/system-features":
                return Json(HttpStatusCode.OK, "{\"enable_email_password_login\":true}");
            case "/console/api/login":
                return Login(body!);
            case "/console/api/refresh-token":
                return Refresh(request, body);
        }

        if (Authenticate(request) is { } denied)
        {
            return denied;
        }

        if (int.TryParse(query["limit"], out var lim) && lim > 100)
        {
            return Error(HttpStatusCode.BadRequest, "invalid_param", "limit must be <= 100");
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        // console/api/...
        switch (parts.Length)
        {
            case 4 when parts[2] == "account" && parts[3] == "profile":
                return Json(HttpStatusCode.OK, new JsonObject { ["id"] = AccountId, ["email"] = Email, ["name"] = "Ops Admin", ["timezone"] = TimeZone }.ToJsonString());
            case 3 when parts[2] == "workspaces":
                return Json(HttpStatusCode.OK, "{\"workspaces\":[{\"id\":\"w1\",\"name\":\"One\",\"current\":true},{\"id\":\"w2\",\"name\":\"Two\",\"current\":false}]}");
            case 4 when parts[2] == "workspaces" && parts[3] == "switch":
                return Json(HttpStatusCode.OK, "{\"result\":\"success\"}");
            case 3 when parts[2] == "apps":
                return Page(Apps, query);
            case 4 when parts[2] == "apps":
                var app = Apps.FirstOrDefault(a => (string?)a!["id"] == parts[3]);
                return app is null ? Error(HttpStatusCode.NotFound, "app_not_found", "App not found.") : Json(HttpStatusCode.OK, app.ToJsonString());
            case 5 when parts[4] == "chat-conversations":
                var conversations = new JsonArray();
                if (parts[3] == SupportBot)
                {
                    conversations.Add(JsonNode.Parse($$"""{"id":"{{Conversation}}","from_end_user_id":"e7d6c5b4-a392-4817-8f6e-5d4c3b2a1900","from_account_id":null,"created_at":1763714703,"updated_at":1763714842}"""));
                }

                return Page(conversations, query);
            case 5 when parts[4] == "completion-conversations":
                return Page([], query);
            case 5 when parts[4] == "chat-messages":
                return query["conversation_id"] == Conversation && parts[3] == SupportBot
                    ? Json(HttpStatusCode.OK, Fixtures.Read("console-chat-messages.json"))
                    : Error(HttpStatusCode.NotFound, "not_found", "Conversation Not Exists.");
            case 5 when parts[4] == "workflow-app-logs":
                var logs = parts[3] == InvoiceExtractor ? JsonNode.Parse(Fixtures.Read("console-workflow-app-logs.json"))!["data"]!.AsArray() : [];
                return Page(logs, query);
            case 7 when parts[4] == "workflow-runs" && parts[6] == "node-executions":
                return parts[5] == "4f3e2d1c-0b9a-4887-9665-5d4c3b2a1908"
                    ? Json(HttpStatusCode.OK, Fixtures.Read("console-workflow-run-node-executions.json"))
                    : Json(HttpStatusCode.OK, "{\"data\":[]}");
            default:
                return Error(HttpStatusCode.NotFound, "not_found", "The requested URL was not found on the server.");
        }
    }

    private static HttpResponseMessage Page(JsonArray all, System.Collections.Specialized.NameValueCollection query)
    {
        var page = int.TryParse(query["page"], out var p) ? p : 1;
        var limit = int.TryParse(query["limit"], out var l) ? l : 20;
        var items = all.Skip((page - 1) * limit).Take(limit).Select(n => n?.DeepClone()).ToArray();
        var result = new JsonObject
        {
            ["page"] = page,
            ["limit"] = limit,
            ["total"] = all.Count,
            ["has_more"] = all.Count > page * limit,
            ["data"] = new JsonArray(items),
        };
        return Json(HttpStatusCode.OK, result.ToJsonString());
    }

    public static HttpResponseMessage Error(HttpStatusCode status, string code, string message) =>
        Json(status, new JsonObject { ["code"] = code, ["message"] = message, ["status"] = (int)status }.ToJsonString());

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
}
