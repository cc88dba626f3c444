using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Collections.Persistence;

namespace Collections.Outreach;

/// <summary>Reading and writing values the same way on SQLite (text) and PostgreSQL (native types).</summary>
internal static class Sql
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static object Money(this DatabaseOptions db, decimal value) =>
        db.Provider == DatabaseProvider.Sqlite ? value.ToString("0.00", CultureInfo.InvariantCulture) : value;

    public static decimal ReadMoney(this DatabaseOptions db, DbDataReader reader, int ordinal) =>
        db.Provider == DatabaseProvider.Sqlite
            ? decimal.Parse(reader.GetString(ordinal), NumberStyles.Number, CultureInfo.InvariantCulture)
            : reader.GetDecimal(ordinal);

    public static object? Date(this DatabaseOptions db, DateOnly? value) =>
        value is not { } d ? null : db.Provider == DatabaseProvider.Sqlite ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : d;

    public static DateOnly? ReadDate(this DatabaseOptions db, DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null
        : db.Provider == DatabaseProvider.Sqlite ? DateOnly.ParseExact(reader.GetString(ordinal), "yyyy-MM-dd", CultureInfo.InvariantCulture)
        : reader.GetFieldValue<DateOnly>(ordinal);

    public static object? Timestamp(this DatabaseOptions db, DateTimeOffset? value) => value is { } v ? db.Timestamp(v) : null;

    public static DateTimeOffset? ReadTimestampOrNull(this DatabaseOptions db, DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : db.ReadTimestamp(reader, ordinal);

    public static string? StringOrNull(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static string StatusText(OutboxStatus status) => status.ToString().ToLowerInvariant();

    public static OutboxStatus ParseStatus(string text) => Enum.Parse<OutboxStatus>(text, ignoreCase: true);

    /// <summary>SQLite reports a unique-constraint violation as error 19; PostgreSQL as SQLSTATE 23505.</summary>
    public static bool IsUniqueViolation(Exception ex) => ex switch
    {
        Microsoft.Data.Sqlite.SqliteException s => s.SqliteErrorCode == 19,
        Npgsql.PostgresException p => p.SqlState == "23505",
        _ => false,
    };
}
