using System.Globalization;
using DifyUsageExporter.Storage;

namespace DifyUsageExporter.Sync;

/// <summary>
/// Which days a cycle reconciles (docs/usage-semantics.md §5): the days whose usage changed in the
/// cycle (first..last changed day), and the whole window when no whole-window reconcile of it
/// passed in the last day. A cycle that changed nothing in the ledger, with a recent whole-window
/// reconcile, reconciles nothing: no statistics request, no ledger read, so its cost does not grow
/// with the stored history. <c>reconcile --from D --to D</c> checks any days on demand.
/// </summary>
public static class ReconcileScope
{
    /// <summary>How often at least the whole window is reconciled, changed or not (usage Dify recorded that no extraction saw).</summary>
    public static readonly TimeSpan WholeWindowInterval = TimeSpan.FromDays(1);

    /// <summary>The days to reconcile, or null for none.</summary>
    /// <param name="lastWhole">The last whole-window reconcile: when, and which window.</param>
    public static (DateOnly From, DateOnly To, bool Whole)? Choose(DateOnly from, DateOnly to, IReadOnlyCollection<DateOnly> changed, (DateTimeOffset At, DateOnly From, DateOnly To)? lastWhole, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(changed);
        var wholeDue = lastWhole is not { } last || now - last.At >= WholeWindowInterval || now < last.At || last.From > from || last.To < to;
        if (wholeDue)
        {
            return (from, to, true);
        }

        var inWindow = changed.Where(d => d >= from && d <= to).ToList();
        return inWindow.Count == 0 ? null : (inWindow.Min(), inWindow.Max(), false);
    }

    /// <summary>Reads the last whole-window reconcile from the store (null: none yet, or unreadable).</summary>
    public static async Task<(DateTimeOffset At, DateOnly From, DateOnly To)?> LastWholeAsync(StateStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var text = await store.ReadWholeReconcileAsync(cancellationToken).ConfigureAwait(false);
        var parts = text?.Split(' ');
        if (parts is not { Length: 3 }
            || !DateTimeOffset.TryParse(parts[0], CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
            || Iso.TryParseDay(parts[1]) is not { } f || Iso.TryParseDay(parts[2]) is not { } t)
        {
            return null;
        }

        return (at, f, t);
    }

    /// <summary>Remembers a whole-window reconcile of <paramref name="from"/>..<paramref name="to"/> at <paramref name="at"/>.</summary>
    public static Task SaveWholeAsync(StateStore store, DateTimeOffset at, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.SaveWholeReconcileAsync($"{Iso.Instant(at)} {Iso.Day(from)} {Iso.Day(to)}", cancellationToken);
    }
}
