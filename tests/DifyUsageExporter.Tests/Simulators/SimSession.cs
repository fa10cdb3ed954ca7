using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Simulators.Dify;

namespace DifyUsageExporter.Tests.Simulators;

/// <summary>A bare-hands console session for the simulator's own tests (cookies parsed by hand).</summary>
internal sealed class SimSession : IDisposable
{
    private readonly HttpClient _http;

    public SimSession(DifySimulator sim)
    {
        Sim = sim;
        _http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = sim.BaseUrl };
    }

    public DifySimulator Sim { get; }

    public static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    public static Task<DifySimulator> StartAsync(DifySimulatorOptions options) => DifySimulator.StartAsync(options, Ct);

    /// <summary>Cookies received, by exact name.</summary>
    public Dictionary<string, string> Cookies { get; } = new(StringComparer.Ordinal);

    public string? Bearer { get; set; }

    public string? RefreshToken { get; set; }

    public HttpClient Http => _http;

    public string? Csrf => Cookies.FirstOrDefault(kv => kv.Key.EndsWith("csrf_token", StringComparison.Ordinal)).Value;

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public async Task<HttpResponseMessage> LoginAsync(string? password = null, bool? base64 = null)
    {
        var pw = password ?? Sim.Options.Password;
        if (base64 ?? Sim.Options.AuthMode == DifyAuthMode.CookieBase64)
        {
            pw = Convert.ToBase64String(Encoding.UTF8.GetBytes(pw));
        }

        var body = new JsonObject { ["email"] = Sim.Options.Email, ["password"] = pw, ["remember_me"] = false }.ToJsonString();
        var r = await _http.PostAsync(new Uri("console/api/login", UriKind.Relative), Json(body), Ct);
        await AbsorbAsync(r);
        return r;
    }

    /// <summary>Takes Set-Cookie headers and legacy JSON tokens into the session.</summary>
    public async Task AbsorbAsync(HttpResponseMessage r)
    {
        if (r.Headers.TryGetValues("Set-Cookie", out var cookies))
        {
            foreach (var c in cookies)
            {
                var pair = c.Split(';', 2)[0];
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                Cookies[pair[..eq]] = pair[(eq + 1)..];
            }
        }

        if (r.IsSuccessStatusCode && r.Content.Headers.ContentType?.MediaType == "application/json")
        {
            var node = JsonNode.Parse(await r.Content.ReadAsStringAsync(Ct));
            if (node?["data"] is JsonObject data && data["access_token"] is { } at)
            {
                Bearer = at.GetValue<string>();
                RefreshToken = data["refresh_token"]!.GetValue<string>();
            }
        }
    }

    public HttpRequestMessage Request(HttpMethod method, string path, bool csrf = true)
    {
        var req = new HttpRequestMessage(method, new Uri("console/api/" + path.TrimStart('/'), UriKind.Relative));
        if (Cookies.Count > 0)
        {
            req.Headers.Add("Cookie", string.Join("; ", Cookies.Select(kv => kv.Key + "=" + kv.Value)));
        }

        if (csrf && Csrf is { } token)
        {
            req.Headers.Add("X-CSRF-Token", token);
        }

        if (Bearer is not null)
        {
            req.Headers.Add("Authorization", "Bearer " + Bearer);
        }

        return req;
    }

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage req) => _http.SendAsync(req, Ct);

    public async Task<(HttpStatusCode Status, JsonNode? Body)> GetAsync(string path)
    {
        using var r = await _http.SendAsync(Request(HttpMethod.Get, path), Ct);
        var text = await r.Content.ReadAsStringAsync(Ct);
        return (r.StatusCode, text.Length > 0 && r.Content.Headers.ContentType?.MediaType == "application/json" ? JsonNode.Parse(text) : null);
    }

    public async Task<JsonNode> GetOkAsync(string path)
    {
        var (status, body) = await GetAsync(path);
        if (status != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {path} → {(int)status} {body?.ToJsonString()}");
        }

        return body!;
    }

    public void Dispose() => _http.Dispose();
}
