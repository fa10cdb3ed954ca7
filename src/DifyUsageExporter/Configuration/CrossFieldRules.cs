namespace DifyUsageExporter.Configuration;

/// <summary>Rules that involve more than one variable.</summary>
internal static class CrossFieldRules
{
    public static void Check(VariableReader r, ExporterSettings s)
    {
        CheckDifyAuth(r, s);
        CheckCustomPeriod(r, s);
        MaintenanceSettings.CheckAlerts(r, s);
    }

    private static void CheckDifyAuth(VariableReader r, ExporterSettings s)
    {
        var hasLogin = s.DifyEmail is not null || s.DifyPassword is not null;
        var hasToken = s.DifyApiToken is not null;
        if (s.DifySource == DifySource.Database && !hasLogin && !hasToken)
        {
            // The database source needs no console login; console settings, when given, are still checked
            // (reconcile and `check --dify` use them).
            return;
        }

        const string Accepted = "DIFY_EMAIL and DIFY_PASSWORD (console login), or DIFY_API_TOKEN and DIFY_WORKSPACE_ID (admin key).";
        if (!hasLogin && !hasToken)
        {
            r.Problem("DIFY_EMAIL", "Dify credentials are required but neither DIFY_EMAIL/DIFY_PASSWORD nor DIFY_API_TOKEN is set.", Accepted);
            r.Problem("DIFY_PASSWORD", "the console login password is required (with DIFY_EMAIL) but not set.", Accepted);
            return;
        }

        if (hasLogin && s.DifyEmail is null)
        {
            r.Problem("DIFY_EMAIL", "is required with DIFY_PASSWORD but not set.", Accepted);
        }

        if (hasLogin && s.DifyPassword is null)
        {
            r.Problem("DIFY_PASSWORD", "is required with DIFY_EMAIL but not set.", Accepted);
        }

        if (hasToken && !hasLogin && r.Text("DIFY_WORKSPACE_ID") is null)
        {
            r.Problem("DIFY_WORKSPACE_ID", "is required with DIFY_API_TOKEN but not set.", Accepted);
        }
    }

    private static void CheckCustomPeriod(VariableReader r, ExporterSettings s)
    {
        if (s.FetchPeriod != FetchPeriod.Custom)
        {
            return;
        }

        const string Accepted = "with DIFY_FETCH_PERIOD=custom, both DIFY_FETCH_START_DATE and DIFY_FETCH_END_DATE as YYYY-MM-DD, start <= end.";
        if (r.Text("DIFY_FETCH_START_DATE") is null)
        {
            r.Problem("DIFY_FETCH_START_DATE", "is required when DIFY_FETCH_PERIOD=custom but not set.", Accepted);
        }

        if (r.Text("DIFY_FETCH_END_DATE") is null)
        {
            r.Problem("DIFY_FETCH_END_DATE", "is required when DIFY_FETCH_PERIOD=custom but not set.", Accepted);
        }

        if (s.FetchStartDate is { } start && s.FetchEndDate is { } end && start > end)
        {
            r.Problem("DIFY_FETCH_START_DATE", $"{Iso.Day(start)} is after DIFY_FETCH_END_DATE {Iso.Day(end)}.", Accepted);
        }
    }
}
