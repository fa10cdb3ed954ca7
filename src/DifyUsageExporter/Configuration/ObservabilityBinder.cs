namespace DifyUsageExporter.Configuration;

/// <summary>Binds and checks the DASHBOARD_* and OTEL_* variables.</summary>
internal static class ObservabilityBinder
{
    private const string ListForm = "key=value pairs separated by commas, values URL-encoded (%20 for a space, %2C for a comma), e.g. a=1,b=two%20words.";

    public static DashboardSettings Dashboard(VariableReader r) => new()
    {
        Enabled = r.Bool("DASHBOARD_ENABLED", false),
        User = r.Text("DASHBOARD_USER"),
        Password = r.Get("DASHBOARD_PASSWORD").Value is { Length: > 0 } password ? password : null,
    };

    public static OtlpSettings Otlp(VariableReader r)
    {
        var attributes = Pairs(r, "OTEL_RESOURCE_ATTRIBUTES");
        var serviceName = r.Get("OTEL_SERVICE_NAME").IsSet
            ? r.Text("OTEL_SERVICE_NAME")!
            : attributes.LastOrDefault(a => a.Key == "service.name").Value ?? OtlpSettings.DefaultServiceName;
        return new OtlpSettings
        {
            Endpoint = r.Url("OTEL_EXPORTER_OTLP_ENDPOINT", required: false),
            Protocol = Protocol(r),
            Headers = Pairs(r, "OTEL_EXPORTER_OTLP_HEADERS"),
            ServiceName = serviceName,
            ResourceAttributes = attributes.Where(a => a.Key != "service.name").ToList(),
            MetricExportInterval = TimeSpan.FromMilliseconds(r.Int("OTEL_METRIC_EXPORT_INTERVAL", 1000, 3_600_000, 60_000)),
        };
    }

    /// <summary>Rules across variables: the dashboard needs credentials and the health server it lives on.</summary>
    public static void Check(VariableReader r, ExporterSettings s, List<string> warnings)
    {
        var d = s.Dashboard;
        if (!d.Enabled)
        {
            return;
        }

        const string Accepted = "with DASHBOARD_ENABLED=true, both DASHBOARD_USER and DASHBOARD_PASSWORD (or DASHBOARD_ENABLED=false).";
        if (d.User is null)
        {
            r.Problem("DASHBOARD_USER", "is required when DASHBOARD_ENABLED=true but not set.", Accepted);
        }
        else if (d.User.Contains(':', StringComparison.Ordinal))
        {
            r.Problem("DASHBOARD_USER", $"{r.Show("DASHBOARD_USER")} contains ':', which HTTP Basic auth cannot carry in a user name.", "a user name without ':'.");
        }

        if (d.Password is null)
        {
            r.Problem("DASHBOARD_PASSWORD", "is required when DASHBOARD_ENABLED=true but not set.", Accepted);
        }
        else if (d.Password.Length < 12)
        {
            warnings.Add("DASHBOARD_PASSWORD is shorter than 12 characters; use a long random password (e.g. openssl rand -base64 24).");
        }

        if (!s.HealthcheckEnabled)
        {
            r.Problem("DASHBOARD_ENABLED", "is true but HEALTHCHECK_ENABLED=false; the dashboard is served by the health server.", "HEALTHCHECK_ENABLED=true with the dashboard, or DASHBOARD_ENABLED=false.");
        }

        if (s.HealthcheckHost is not ("127.0.0.1" or "localhost" or "::1"))
        {
            warnings.Add($"The dashboard is served over plain HTTP on HEALTHCHECK_HOST={s.HealthcheckHost}: the Basic-auth password crosses the network in clear text unless a TLS reverse proxy sits in front.");
        }
    }

    private static OtlpWireProtocol Protocol(VariableReader r)
    {
        var text = r.Text("OTEL_EXPORTER_OTLP_PROTOCOL");
        switch (text?.ToLowerInvariant())
        {
            case null or "http/protobuf":
                return OtlpWireProtocol.HttpProtobuf;
            case "grpc":
                return OtlpWireProtocol.Grpc;
            default:
                var why = text == "http/json" ? "http/json is not supported by the OpenTelemetry .NET exporter." : $"{r.Show("OTEL_EXPORTER_OTLP_PROTOCOL")} is not an OTLP protocol.";
                r.Problem("OTEL_EXPORTER_OTLP_PROTOCOL", why, "http/protobuf or grpc.");
                return OtlpWireProtocol.HttpProtobuf;
        }
    }

    /// <summary>Parses the W3C-baggage-like key=value list of OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES.</summary>
    private static List<KeyValuePair<string, string>> Pairs(VariableReader r, string name)
    {
        var result = new List<KeyValuePair<string, string>>();
        var text = r.Get(name).Value?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return result;
        }

        foreach (var (part, index) in text.Split(',').Select((p, i) => (p.Trim(), i + 1)))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = eq > 0 ? part[..eq].Trim() : string.Empty;
            if (part.Length == 0 || key.Length == 0 || key.Any(char.IsWhiteSpace))
            {
                // Never echo the item: in OTEL_EXPORTER_OTLP_HEADERS it may hold a token.
                r.Problem(name, $"item {index} is not key=value.", ListForm);
                continue;
            }

            // Invalid %-sequences stay as written (Uri.UnescapeDataString does not throw).
            result.Add(new KeyValuePair<string, string>(key, Uri.UnescapeDataString(part[(eq + 1)..].Trim())));
        }

        return result;
    }
}
