using System.CommandLine;
using System.Text;
using System.Text.Json;
using DifyUsageExporter.Hosting;

namespace DifyUsageExporter.Cli;

/// <summary>A table column: its header and whether its cells are numbers (right-aligned).</summary>
internal readonly record struct CliColumn(string Header, bool Numeric = false);

/// <summary>
/// The one way commands print rows for people: every column as wide as its widest cell (header
/// included), two spaces between columns, numbers right-aligned, no trailing blanks, and an
/// optional totals row under a rule. Scripts use <c>--json</c> (<see cref="CliOutput"/>), never the table.
/// </summary>
internal sealed class CliTable(params CliColumn[] columns)
{
    private readonly List<string[]> rows = [];
    private readonly List<string> notes = [];
    private string[]? totals;

    public IReadOnlyList<CliColumn> Columns => columns;

    /// <summary>One row; missing cells are empty.</summary>
    public void Add(params string?[] cells) => rows.Add(Pad(cells));

    /// <summary>A free line printed under the last row added (e.g. a dead key of a batch).</summary>
    public void Note(string line)
    {
        rows.Add([]);
        notes.Add(line);
    }

    /// <summary>The totals row, printed last under a rule.</summary>
    public void Totals(params string?[] cells) => totals = Pad(cells);

    public void Write(TextWriter output)
    {
        var widths = columns.Select((c, i) => rows.Append(totals ?? []).Where(r => r.Length > 0).Select(r => r[i].Length).Append(c.Header.Length).Max()).ToArray();
        output.WriteLine(Line(columns.Select(c => c.Header).ToArray(), widths));
        var note = 0;
        foreach (var row in rows)
        {
            output.WriteLine(row.Length == 0 ? notes[note++] : Line(row, widths));
        }

        if (totals is not null)
        {
            output.WriteLine(new string('-', widths.Sum() + (2 * (widths.Length - 1))));
            output.WriteLine(Line(totals, widths));
        }
    }

    private string[] Pad(string?[] cells) => columns.Select((_, i) => i < cells.Length ? cells[i] ?? string.Empty : string.Empty).ToArray();

    private string Line(string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                line.Append("  ");
            }

            line.Append(columns[i].Numeric ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
        }

        return line.ToString().TrimEnd();
    }
}

/// <summary>The <c>--json</c> option of every read command, and the way its document is written (indented, secrets masked, one document on stdout).</summary>
internal static class CliOutput
{
    public static Option<bool> JsonOption(string description = "Print JSON instead of a table.") => new("--json") { Description = description };

    /// <summary>Writes one JSON document built by <paramref name="write"/> to <see cref="CommandEnvironment.Out"/>.</summary>
    public static void WriteJson(CommandEnvironment env, Action<Utf8JsonWriter> write) => env.Out.WriteLine(env.Secrets.Mask(Json(write)));

    /// <summary>The text of one indented JSON document.</summary>
    public static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            write(w);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Writes the table to <see cref="CommandEnvironment.Out"/> with secrets masked.</summary>
    public static void WriteTable(CommandEnvironment env, CliTable table)
    {
        using var text = new StringWriter();
        table.Write(text);
        env.Out.Write(env.Secrets.Mask(text.ToString()));
    }
}
