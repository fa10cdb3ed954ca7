namespace DifyUsageExporter.Configuration;

/// <summary>Binds and checks the DASHBOARD_* variables.</summary>
internal static class ObservabilityBinder
{
    public static DashboardSettings Dashboard(VariableReader r) => new()
    {
        Enabled = r.Bool("DASHBOARD_ENABLED", false),
        User = r.Text("DASHBOARD_USER"),
        Password = r.Get("DASHBOARD_PASSWORD").Value is { Length: > 0 } password ? password : null,
    };

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
}
