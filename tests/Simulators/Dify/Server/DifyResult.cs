using System.Text;
using System.Text.Json.Nodes;

namespace Simulators.Dify;

/// <summary>A raw response: status, body, content type and extra headers (Set-Cookie, WWW-Authenticate).</summary>
internal sealed class DifyResult(int status, string body, string contentType = "application/json") : IResult
{
    public List<KeyValuePair<string, string>> Headers { get; } = [];

    public int Status => status;

    public static DifyResult Json(JsonNode node, int status = 200) => new(status, node.ToJsonString());

    /// <summary>Dify's error envelope; 401 adds <c>WWW-Authenticate: Bearer realm="api"</c>.</summary>
    public static DifyResult Error(int status, string code, string message, string? param = null)
    {
        var body = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status };
        if (param is not null)
        {
            body["params"] = param;
        }

        var r = Json(body, status);
        if (status == 401)
        {
            r.Headers.Add(new("WWW-Authenticate", "Bearer realm=\"api\""));
        }

        return r;
    }

    public static DifyResult Unauthorized(string message) => Error(401, "unauthorized", message);

    public static DifyResult InvalidParam(string message, string param) => Error(400, "invalid_param", message, param);

    public static DifyResult NotFound()
        => Error(404, "not_found", "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.");

    public static DifyResult AppNotFound() => Error(404, "app_not_found", "App not found.");

    public static DifyResult Html(int status, string title)
        => new(status, $"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx/1.27.3</center>\r\n</body>\r\n</html>\r\n", "text/html");

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = status;
        foreach (var (name, value) in Headers)
        {
            response.Headers.Append(name, value);
        }

        response.ContentType = contentType;
        await response.WriteAsync(body, Encoding.UTF8, httpContext.RequestAborted).ConfigureAwait(false);
    }
}
