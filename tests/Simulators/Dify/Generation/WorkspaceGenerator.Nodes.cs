namespace Simulators.Dify;

public sealed partial class WorkspaceGenerator
{
    private readonly Lock _regenerate = new();

    /// <summary>Seeded node builds so far; the ordinal of each is its id salt.</summary>
    private int _seededBuilds;

    /// <summary>While a seeded build runs: its ordinal, mixed into every id <see cref="NewId"/> draws.</summary>
    private int? _idSalt;

    /// <summary>
    /// A run's nodes. With <see cref="GeneratorOptions.CompactNodes"/> they are built from a seed of
    /// their own, and the run keeps a factory that builds exactly the same nodes (ids, node ids,
    /// usage) again on every read instead of the nodes (<c>Held</c> is then empty). Otherwise they are
    /// drawn from the workspace's random sequence and held, as always. <paramref name="build"/> may
    /// only draw from <c>_rng</c> and <see cref="NextNodeId"/>.
    /// A seed is one of 2^31 values, so a workspace of some 300,000 runs draws dozens of equal seeds
    /// (birthday bound); their runs get the same usage but never the same node execution ids: each
    /// seeded build mixes its own ordinal into the ids it draws (<see cref="NewId"/>), as Dify's
    /// node execution ids are unique per row (UUID primary key of workflow_node_executions).
    /// </summary>
    private (List<SimNode> Nodes, List<SimNode> Held, Func<List<SimNode>>? Source) SeededNodes(Func<List<SimNode>> build)
    {
        if (!_o.CompactNodes)
        {
            var held = Indexed(build());
            return (held, held, null);
        }

        var seed = _o.NodeSeeds == int.MaxValue ? _rng.Next() : _rng.Next(_o.NodeSeeds);
        var ordinal = ++_seededBuilds;
        var firstNodeId = _nodeCounter;
        var outer = _rng;
        (_rng, _idSalt) = (new Random(seed), ordinal);
        List<SimNode> nodes;
        try
        {
            nodes = Indexed(build());
        }
        finally
        {
            (_rng, _idSalt) = (outer, null);
        }

        return (nodes, [], () =>
        {
            // Served concurrently: one rebuild at a time, with the generator's own state put back.
            lock (_regenerate)
            {
                var (rng, counter, salt) = (_rng, _nodeCounter, _idSalt);
                (_rng, _nodeCounter, _idSalt) = (new Random(seed), firstNodeId, ordinal);
                try
                {
                    return Indexed(build());
                }
                finally
                {
                    (_rng, _nodeCounter, _idSalt) = (rng, counter, salt);
                }
            }
        }
        );
    }

    private string NextNodeId() => (1731570000000L + Interlocked.Increment(ref _nodeCounter)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private SimNode Plain(string type, string title, string status = "succeeded")
        => new() { Id = NewId(), NodeId = NextNodeId(), NodeType = type, Title = title, Status = status, Shape = SimNodeUsageShape.None, NullMetadata = Chance(0.1) };

    private SimNode Llm(SimModelRef model, string type = "llm", string? parentId = null, string? parentType = null, int? completionTokens = null)
    {
        var (p, c) = RandomTokens();
        return new SimNode
        {
            Id = NewId(),
            NodeId = NextNodeId(),
            NodeType = type,
            Title = type == "llm" ? "LLM" : type,
            Shape = SimNodeUsageShape.ProcessData,
            Model = model,
            Usage = SimUsage.Priced(p, completionTokens ?? c, model, RandomPriceFormat()),
            ParentContainerNodeId = parentId,
            ParentContainerType = parentType,
            ProcessDataTruncated = Chance(0.1),
        };
    }

    /// <summary>An older parameter-extractor: usage in process_data but no model fields → unknown.</summary>
    private SimNode AnonymousExtractor()
    {
        var priced = Pick(ModelCatalog.All);
        var node = Llm(priced, "parameter-extractor");
        return new SimNode { Id = node.Id, NodeId = node.NodeId, NodeType = node.NodeType, Title = "Extract", Shape = node.Shape, Model = null, Usage = node.Usage };
    }

    private SimNode Agent(bool metadataOnly)
    {
        var (p, c) = RandomTokens();
        var priced = Pick(ModelCatalog.All);
        var usage = metadataOnly
            ? SimUsage.Priced(p + c, 0, priced, SimPriceFormat.Fixed)
            : SimUsage.Priced(p, c, priced, RandomPriceFormat());
        return new SimNode
        {
            Id = NewId(),
            NodeId = NextNodeId(),
            NodeType = "agent",
            Title = "Agent",
            Shape = metadataOnly ? SimNodeUsageShape.MetadataOnly : SimNodeUsageShape.OutputsOnly,
            Usage = usage,
        };
    }

    /// <summary>An iteration or loop container followed by its children (the children carry the usage).</summary>
    private IEnumerable<SimNode> Container(string type)
    {
        var containerId = NextNodeId();
        var children = Enumerable.Range(0, _rng.Next(2, 4)).Select(_ => Llm(Pick(ModelCatalog.All), parentId: containerId, parentType: type)).ToList();
        yield return new SimNode
        {
            Id = NewId(),
            NodeId = containerId,
            NodeType = type,
            Title = type == "iteration" ? "Iterate" : "Loop",
            Shape = SimNodeUsageShape.Container,
            Usage = SimUsage.Sum(children.Select(n => n.Usage!)),
        };
        foreach (var child in children)
        {
            yield return child;
        }
    }

    /// <summary>A typical graph with a mix of every node shape.</summary>
    private List<SimNode> RichGraph(SimModelRef main, bool endWithAnswer)
    {
        var nodes = new List<SimNode> { Plain("start", "Start") };
        if (Chance(0.5))
        {
            nodes.Add(Llm(main, "question-classifier", completionTokens: 1));
        }

        nodes.Add(Llm(Chance(0.8) ? main : Pick(ModelCatalog.All)));
        if (Chance(0.2))
        {
            nodes.Add(Chance(0.5) ? AnonymousExtractor() : Llm(Pick(ModelCatalog.All), "parameter-extractor"));
        }

        if (Chance(0.25))
        {
            nodes.Add(Agent(metadataOnly: Chance(0.5)));
        }

        if (Chance(0.2))
        {
            nodes.AddRange(Container(Chance(0.5) ? "iteration" : "loop"));
        }

        if (Chance(0.3))
        {
            nodes.Add(Plain(Chance(0.5) ? "code" : "tool", "Step"));
        }

        nodes.Add(Plain(endWithAnswer ? "answer" : "end", endWithAnswer ? "Answer" : "End"));
        return nodes;
    }

    private static List<SimNode> Indexed(List<SimNode> nodes)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            nodes[i].Index = i + 1;
        }

        return nodes;
    }

    /// <summary>Leaf usages as the message-level sum sees them.</summary>
    private static List<SimUsage> LeafUsages(IEnumerable<SimNode> nodes)
        => [.. nodes.Where(n => n.Shape is SimNodeUsageShape.ProcessData or SimNodeUsageShape.OutputsOnly or SimNodeUsageShape.MetadataOnly && n.Usage is not null).Select(n => n.Usage!)];
}
