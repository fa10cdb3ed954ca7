namespace Simulators.Dify;

/// <summary>
/// Builds a seeded, deterministic <see cref="SimWorkspace"/> with apps of every mode and every
/// data shape of Dify's api/controllers/console/wraps.py The expected totals come from <see cref="GroundTruth"/>.
/// </summary>
public sealed partial class WorkspaceGenerator
{
    private readonly GeneratorOptions _o;
    private Random _rng;
    private readonly List<SimEndUser> _endUsers = [];
    private readonly List<SimAccount> _accounts = [];
    private readonly TimeZoneInfo[] _edgeZones;
    private int _nodeCounter;

    private WorkspaceGenerator(GeneratorOptions options)
    {
        _o = options;
        _rng = new Random(options.Seed);
        _edgeZones = [.. options.EdgeTimeZones.Select(TimeZoneInfo.FindSystemTimeZoneById)];
    }

    /// <summary>Generates a workspace. Same options → same workspace.</summary>
    public static SimWorkspace Generate(GeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.End <= options.Start)
        {
            throw new ArgumentException("End must be after Start.", nameof(options));
        }

        return new WorkspaceGenerator(options).Build();
    }

    private SimWorkspace Build()
    {
        _accounts.Add(_o.Owner);
        _accounts.Add(new SimAccount(NewId(), "Editor Two", "editor2@example.com"));
        for (var i = 0; i < _o.EndUsers; i++)
        {
            _endUsers.Add(i % 3 == 2
                ? new SimEndUser(NewId(), "browser", true, RandomToken(16))
                : new SimEndUser(NewId(), "service_api", false, $"customer-{10000 + i}"));
        }

        var ws = new SimWorkspace { Id = NewId(), Name = $"Sim Workspace {_o.Seed}", Accounts = [.. _accounts] };
        var n = 0;
        for (var i = 0; i < _o.ChatApps; i++)
        {
            ws.Apps.Add(ChatApp("chat", $"Chat {++n}", agentConfig: false, archived: false));
        }

        for (var i = 0; i < _o.AgentChatApps; i++)
        {
            // Alternate the stored form: agent-chat, or chat with an agent config (reported as agent-chat).
            ws.Apps.Add(ChatApp(i % 2 == 0 ? "agent-chat" : "chat", $"Agent {++n}", agentConfig: i % 2 == 1, archived: false));
        }

        for (var i = 0; i < _o.CompletionApps; i++)
        {
            ws.Apps.Add(CompletionApp($"Completion {++n}"));
        }

        for (var i = 0; i < _o.AdvancedChatApps; i++)
        {
            ws.Apps.Add(AdvancedChatApp($"Chatflow {++n}"));
        }

        for (var i = 0; i < _o.WorkflowApps; i++)
        {
            ws.Apps.Add(WorkflowApp($"Workflow {++n}"));
        }

        for (var i = 0; i < _o.ArchivedApps; i++)
        {
            ws.Apps.Add(ChatApp("chat", $"Archived {++n}", agentConfig: false, archived: true));
        }

        if (_o.CurrentDifyKinds)
        {
            AddCurrentDifyKinds(ws, ref n);
        }

        if (_o.UnknownModeApps)
        {
            // With the current kinds, "agent" is a real app above; a future mode stands in for "unknown".
            foreach (var mode in _o.CurrentDifyKinds ? new[] { "channel", "rag-pipeline", "voice-agent" } : ["channel", "rag-pipeline", "agent"])
            {
                ws.Apps.Add(new SimApp { Id = NewId(), Name = $"Other {mode}", Mode = mode, CreatedAt = AppCreatedAt() });
            }
        }

        return ws;
    }

    private DateTimeOffset AppCreatedAt() => _o.Start.AddDays(-30).AddSeconds(_rng.Next(0, 20 * 86400));

    internal Guid NewId()
    {
        Span<byte> b = stackalloc byte[16];
        _rng.NextBytes(b);
        if (_idSalt is { } salt)
        {
            // Equal seeds draw equal bytes: the build's ordinal keeps their ids apart (see SeededNodes).
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b, System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(b) ^ salt);
        }

        b[7] = (byte)((b[7] & 0x0F) | 0x40); // version 4 (little-endian layout of Guid(byte[]))
        b[8] = (byte)((b[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(b);
    }

    private string RandomToken(int length)
    {
        const string chars = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return new string([.. Enumerable.Range(0, length).Select(_ => chars[_rng.Next(chars.Length)])]);
    }

    private bool Chance(double p) => _rng.NextDouble() < p;

    private T Pick<T>(IReadOnlyList<T> items) => items[_rng.Next(items.Count)];

    /// <summary>A whole-second instant in [Start, End - margin), sometimes right next to a local midnight.</summary>
    private DateTimeOffset RandomInstant(TimeSpan margin)
    {
        var end = _o.End - margin;
        if (end <= _o.Start)
        {
            end = _o.End;
        }

        if (_edgeZones.Length > 0 && Chance(_o.EdgeFraction))
        {
            var zone = Pick(_edgeZones);
            var days = (int)Math.Max(1, (end - _o.Start).TotalDays);
            var localDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(_o.Start, zone).DateTime).AddDays(_rng.Next(0, days + 1));
            var midnight = TimeZoneInfo.ConvertTimeToUtc(localDay.ToDateTime(TimeOnly.MinValue), zone);
            var t = new DateTimeOffset(midnight, TimeSpan.Zero).AddSeconds(_rng.Next(-120, 120));
            if (t >= _o.Start && t < end)
            {
                return t;
            }
        }

        var span = (long)(end - _o.Start).TotalSeconds;
        return _o.Start.AddSeconds(_rng.NextInt64(0, Math.Max(1, span)));
    }

    private SimActor RandomActor(double accountShare)
        => Chance(accountShare) ? SimActor.Of(Pick(_accounts)) : SimActor.Of(Pick(_endUsers));

    private SimPriceFormat RandomPriceFormat()
    {
        var x = _rng.NextDouble();
        return x < 0.55 ? SimPriceFormat.Fixed : x < 0.8 ? SimPriceFormat.Exponent : x < 0.92 ? SimPriceFormat.Number : SimPriceFormat.Trimmed;
    }

    /// <summary>Token counts with a long tail and some tiny completions (exponent prices).</summary>
    private (int Prompt, int Completion) RandomTokens()
    {
        var prompt = _rng.Next(5, 4000);
        var completion = Chance(0.1) ? _rng.Next(1, 3) : _rng.Next(1, 1500);
        return (prompt, completion);
    }
}
