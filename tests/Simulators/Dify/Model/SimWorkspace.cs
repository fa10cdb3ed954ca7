namespace Simulators.Dify;

/// <summary>A Dify workspace (tenant) with its apps.</summary>
public sealed class SimWorkspace
{
    public Guid Id { get; init; } = Guid.NewGuid();

    public string Name { get; init; } = "Sim Workspace";

    public List<SimApp> Apps { get; init; } = [];

    /// <summary>Console accounts that appear as creators (the logged-in account need not be listed).</summary>
    public List<SimAccount> Accounts { get; init; } = [];

    /// <summary>Knowledge bases (1.12+: some run a knowledge pipeline whose runs carry usage).</summary>
    public List<SimDataset> Datasets { get; init; } = [];

    public DateTimeOffset CreatedAt { get; init; } = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
}
