using System.Collections.Concurrent;
using System.Data.Common;
using System.Text;

namespace Collections.Persistence;

/// <summary>
/// PostgreSQL statements written with named parameters (<c>@name</c>) turned into positional ones (<c>$1</c>, <c>$2</c>,
/// …) once per statement text, with their parameters unnamed and in that order: Npgsql then sends the text as it is
/// instead of parsing it to rewrite the names on every execution (its "raw mode"), which on a due day was a few per
/// cent of the engine's CPU. Quoted strings and identifiers, and <c>--</c> and <c>/* */</c> comments, are left alone;
/// <c>::type</c> casts and operators such as <c>@&gt;</c> are not parameters. A name used twice becomes one position.
/// Dollar-quoted and <c>E'…'</c> strings are not recognised: the engine's statements use neither (a name inside one
/// would be missing from the parameters given, and the statement refused, never bound wrongly).
/// </summary>
public static class PositionalSql
{
    private static readonly ConcurrentDictionary<string, (string Text, string[] Names)> Rewritten = new(StringComparer.Ordinal);

    /// <summary>The statement with positions for names, and the names in position order.</summary>
    public static (string Text, string[] Names) For(string sql) => Rewritten.GetOrAdd(sql, Rewrite);

    /// <summary>Turns a PostgreSQL batch command written with named parameters into its positional form, in place.</summary>
    public static void MakePositional(DbBatchCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Parameters.Count == 0 || command.CommandText is not { } sql) return;
        var (text, names) = For(sql);
        // A few dozen parameters at most: looked up by a scan, with nothing allocated but the array (this runs per statement).
        var given = new DbParameter[command.Parameters.Count];
        command.Parameters.CopyTo(given, 0);
        command.Parameters.Clear();
        foreach (var name in names)
        {
            var parameter = Given(given, name) ?? throw new InvalidOperationException($"The statement names a parameter @{name} that was not given.");
            parameter.ParameterName = "";
            command.Parameters.Add(parameter);
        }
        command.CommandText = text;
    }

    // A loop, not Array.Find with a lambda: a closure per parameter was about 2 % of what arming allocated.
    private static DbParameter? Given(DbParameter[] given, string name)
    {
        foreach (var p in given)
            if (p.ParameterName.AsSpan().TrimStart('@').Equals(name, StringComparison.OrdinalIgnoreCase)) return p;
        return null;
    }

    private static (string, string[]) Rewrite(string sql)
    {
        var text = new StringBuilder(sql.Length);
        var names = new List<string>();
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c is '\'' or '"')
            {
                // A quoted string or identifier, to its closing quote (a doubled quote is one character of it).
                var end = i + 1;
                while (end < sql.Length)
                {
                    if (sql[end] == c)
                    {
                        if (end + 1 < sql.Length && sql[end + 1] == c)
                        {
                            end += 2;
                            continue;
                        }
                        break;
                    }
                    end++;
                }
                end = Math.Min(end + 1, sql.Length);
                text.Append(sql, i, end - i);
                i = end;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? sql.Length : end + 2;
                text.Append(sql, i, end - i);
                i = end;
            }
            else if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                var end = sql.IndexOf('\n', i);
                end = end < 0 ? sql.Length : end;
                text.Append(sql, i, end - i);
                i = end;
            }
            else if (c == '@' && i + 1 < sql.Length && (char.IsAsciiLetter(sql[i + 1]) || sql[i + 1] == '_'))
            {
                var end = i + 1;
                while (end < sql.Length && (char.IsAsciiLetterOrDigit(sql[end]) || sql[end] == '_')) end++;
                var name = sql[(i + 1)..end];
                var position = names.FindIndex(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
                if (position < 0)
                {
                    names.Add(name);
                    position = names.Count - 1;
                }
                text.Append('$').Append(position + 1);
                i = end;
            }
            else
            {
                text.Append(c);
                i++;
            }
        }
        return (text.ToString(), [.. names]);
    }
}
