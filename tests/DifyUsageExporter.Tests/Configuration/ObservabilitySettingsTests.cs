using DifyUsageExporter.Configuration;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Configuration;

/// <summary>DASHBOARD_* and OTEL_* variables: required pairs, cross rules, parsing, masking.</summary>
public class ObservabilitySettingsTests
{
    private const string HeaderToken = "otlp-Header-Secret-9d1c";

    [Fact]
    public void The_dashboard_is_off_by_default_and_otlp_too()
    {
        using var dir = new TempDir();
        var settings = SettingsLoader.Inspect(ValidConfig.Variables(dir.Path), dir.Path).GetSettingsOrThrow();

        settings.Dashboard.Enabled.ShouldBeFalse();
        settings.Otlp.Endpoint.ShouldBeNull();
        settings.Otlp.Protocol.ShouldBe(OtlpWireProtocol.HttpProtobuf);
        settings.Otlp.ServiceName.ShouldBe("dify-usage-exporter");
    }

    [Fact]
    public void An_enabled_dashboard_without_user_and_password_is_a_problem_naming_both()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["DASHBOARD_ENABLED"] = "true";

        var problems = SettingsLoader.Inspect(env, dir.Path).Problems;

        problems.ShouldContain(p => p.StartsWith("DASHBOARD_USER: is required when DASHBOARD_ENABLED=true", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("DASHBOARD_PASSWORD: is required when DASHBOARD_ENABLED=true", StringComparison.Ordinal));
    }

    [Fact]
    public void The_dashboard_needs_the_health_server_and_a_user_without_colon()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["DASHBOARD_ENABLED"] = "true";
        env["DASHBOARD_USER"] = "ops:team";
        env["DASHBOARD_PASSWORD"] = "tiny-pw";
        env["HEALTHCHECK_ENABLED"] = "false";

        var snapshot = SettingsLoader.Inspect(env, dir.Path);

        snapshot.Problems.ShouldContain(p => p.StartsWith("DASHBOARD_ENABLED: is true but HEALTHCHECK_ENABLED=false", StringComparison.Ordinal));
        snapshot.Problems.ShouldContain(p => p.StartsWith("DASHBOARD_USER: 'ops:team' contains ':'", StringComparison.Ordinal));
        snapshot.Warnings.ShouldContain(w => w.StartsWith("DASHBOARD_PASSWORD is shorter than 12 characters", StringComparison.Ordinal));
        string.Join("\n", snapshot.Problems.Concat(snapshot.Warnings)).ShouldNotContain("tiny-pw");
    }

    [Fact]
    public void A_dashboard_on_a_public_address_is_valid_but_warned_about()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["DASHBOARD_ENABLED"] = "true";
        env["DASHBOARD_USER"] = "ops";
        env["DASHBOARD_PASSWORD"] = "a-long-enough-password";
        env["HEALTHCHECK_HOST"] = "0.0.0.0";

        var snapshot = SettingsLoader.Inspect(env, dir.Path);

        snapshot.Problems.ShouldBeEmpty();
        snapshot.Settings!.Dashboard.ShouldBe(new DashboardSettings { Enabled = true, User = "ops", Password = "a-long-enough-password" });
        snapshot.Warnings.ShouldContain(w => w.Contains("HEALTHCHECK_HOST=0.0.0.0", StringComparison.Ordinal) && w.Contains("TLS reverse proxy", StringComparison.Ordinal));
    }

    [Fact]
    public void The_standard_otel_variables_are_parsed_with_service_name_precedence()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4317";
        env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc";
        env["OTEL_EXPORTER_OTLP_HEADERS"] = $"Authorization=Bearer%20{HeaderToken}, x-scope=team%2Cbilling";
        env["OTEL_RESOURCE_ATTRIBUTES"] = "service.name=from-attributes,deployment.environment=prod";
        env["OTEL_METRIC_EXPORT_INTERVAL"] = "15000";

        var otlp = SettingsLoader.Inspect(env, dir.Path).GetSettingsOrThrow().Otlp;

        otlp.Endpoint.ShouldBe(new Uri("http://collector:4317"));
        otlp.Protocol.ShouldBe(OtlpWireProtocol.Grpc);
        otlp.Headers.ShouldBe([new("Authorization", $"Bearer {HeaderToken}"), new("x-scope", "team,billing")]);
        otlp.ServiceName.ShouldBe("from-attributes");
        otlp.ResourceAttributes.ShouldBe([new("deployment.environment", "prod")]);
        otlp.MetricExportInterval.ShouldBe(TimeSpan.FromSeconds(15));

        env["OTEL_SERVICE_NAME"] = "billing-exporter";
        SettingsLoader.Inspect(env, dir.Path).GetSettingsOrThrow().Otlp.ServiceName.ShouldBe("billing-exporter");
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "OTEL_EXPORTER_OTLP_PROTOCOL: http/json is not supported")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "udp", "OTEL_EXPORTER_OTLP_PROTOCOL: 'udp' is not an OTLP protocol")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", "OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' is not an absolute http(s) URL")]
    [InlineData("OTEL_RESOURCE_ATTRIBUTES", "a=1,oops", "OTEL_RESOURCE_ATTRIBUTES: item 2 is not key=value")]
    [InlineData("OTEL_METRIC_EXPORT_INTERVAL", "10", "OTEL_METRIC_EXPORT_INTERVAL: 10 is out of range")]
    public void Bad_otel_values_are_problems_naming_the_variable(string name, string value, string problem)
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env[name] = value;

        SettingsLoader.Inspect(env, dir.Path).Problems.ShouldContain(p => p.StartsWith(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_header_item_is_reported_without_its_content()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["OTEL_EXPORTER_OTLP_HEADERS"] = $"Authorization=Bearer%20{HeaderToken},{HeaderToken}";

        var problem = SettingsLoader.Inspect(env, dir.Path).Problems.ShouldHaveSingleItem();

        problem.ShouldStartWith("OTEL_EXPORTER_OTLP_HEADERS: item 2 is not key=value");
        problem.ShouldNotContain(HeaderToken);
    }

    [Fact]
    public void Config_masks_the_otlp_headers_and_the_dashboard_password()
    {
        using var dir = new TempDir();
        var env = ValidConfig.Variables(dir.Path);
        env["OTEL_EXPORTER_OTLP_HEADERS"] = $"Authorization=Bearer%20{HeaderToken}";
        env["DASHBOARD_ENABLED"] = "true";
        env["DASHBOARD_USER"] = "ops";
        env["DASHBOARD_PASSWORD"] = "dashboard-Password-Secret-1";
        var cli = new CapturedEnvironment(env, dir.Path);

        cli.Run("config").ShouldBe(0);

        var output = cli.Out.ToString();
        output.ShouldContain("OTEL_EXPORTER_OTLP_HEADERS");
        output.ShouldNotContain(HeaderToken);
        output.ShouldNotContain("dashboard-Password-Secret-1");
        cli.Env.Secrets.Mask($"token {HeaderToken} and Bearer {HeaderToken}").ShouldBe("token *** and ***");
    }
}
