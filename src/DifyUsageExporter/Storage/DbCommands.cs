using System.Data;
using System.Data.Common;

namespace DifyUsageExporter.Storage;

/// <summary>
/// Parameters that mean the same to Microsoft.Data.Sqlite and Npgsql: every parameter is typed
/// (text, 32- or 64-bit integer), so a null still has a type PostgreSQL can plan with
/// (<c>@id IS NULL OR app_id = @id</c>); SQLite maps the same types to TEXT and INTEGER.
/// </summary>
internal static class DbCommands
{
    /// <summary>Adds a parameter typed by its value: int, long, or text (null is a text null).</summary>
    public static DbParameter AddWithValue(this DbCommand command, string name, object? value)
    {
        var type = value switch
        {
            int => DbType.Int32,
            long => DbType.Int64,
            _ => DbType.String,
        };
        var parameter = command.AddParameter(name, type);
        parameter.Value = value ?? DBNull.Value;
        return parameter;
    }

    /// <summary>Adds a parameter of <paramref name="type"/> whose value is set later.</summary>
    public static DbParameter AddParameter(this DbCommand command, string name, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
