namespace DifyUsageExporter.Tests.Support;

/// <summary>A complete, valid set of variables with loopback URLs (nothing needs to answer).</summary>
public static class ValidConfig
{
    public const string Password = "Pa55word-Known-Secret";
    public const string MeterToken = "meter-token-Known-Secret-42";

    public static Dictionary<string, string> Variables(string dataDir) => new(StringComparer.Ordinal)
    {
        ["DIFY_API_BASE_URL"] = "http://127.0.0.1:9",
        ["DIFY_EMAIL"] = "exporter@example.com",
        ["DIFY_PASSWORD"] = Password,
        ["EXTERNAL_API_URL"] = "http://127.0.0.1:9/receive",
        ["EXTERNAL_API_TOKEN"] = MeterToken,
        ["API_METER_TENANT_ID"] = "00000000-0000-0000-0000-000000000001",
        ["DATA_DIR"] = dataDir,
        ["HEALTHCHECK_PORT"] = "0",
        // Nothing answers these URLs: tests that start the daemon opt in to a catch-up at start.
        ["RUN_ON_START"] = "never",
    };
}
