using Collections.Persistence;

namespace Collections.Grains.Tests;

/// <summary>Named parameters turned into PostgreSQL positions once per statement, so Npgsql sends statements as they are.</summary>
public sealed class PositionalSqlTests
{
    [Theory]
    [InlineData("SELECT 1", "SELECT 1", "")]
    [InlineData("UPDATE t SET a = @a, b = @b WHERE id = @id AND a = @a", "UPDATE t SET a = $1, b = $2 WHERE id = $3 AND a = $1", "a,b,id")]
    [InlineData("SELECT @client_address::text, @detail::text", "SELECT $1::text, $2::text", "client_address,detail")]
    [InlineData("SELECT '@not' || @yes, \"@col\" FROM t -- @comment\nWHERE x = @x", "SELECT '@not' || $1, \"@col\" FROM t -- @comment\nWHERE x = $2", "yes,x")]
    [InlineData("SELECT 'it''s @not' WHERE j @> @doc", "SELECT 'it''s @not' WHERE j @> $1", "doc")]
    [InlineData("INSERT INTO t (a) VALUES (@a1) RETURNING @_b", "INSERT INTO t (a) VALUES ($1) RETURNING $2", "a1,_b")]
    [InlineData("SELECT /* @note */ @a /* unclosed @b", "SELECT /* @note */ $1 /* unclosed @b", "a")]
    public void Names_become_positions_and_quotes_comments_and_operators_are_left_alone(string sql, string expected, string names)
    {
        var (text, order) = PositionalSql.For(sql);
        Assert.Equal(expected, text);
        Assert.Equal(names.Length == 0 ? [] : names.Split(','), order);
    }

    [Fact]
    public void A_batch_command_gets_its_parameters_in_position_order_unnamed()
    {
        var command = new Npgsql.NpgsqlBatchCommand("UPDATE t SET a = @a WHERE id = @id AND a = @a");
        command.Parameters.Add(new Npgsql.NpgsqlParameter("id", 7));
        command.Parameters.Add(new Npgsql.NpgsqlParameter("a", "x"));

        PositionalSql.MakePositional(command);

        Assert.Equal("UPDATE t SET a = $1 WHERE id = $2 AND a = $1", command.CommandText);
        Assert.Equal(["x", 7], command.Parameters.Select(p => p.Value));
        Assert.All(command.Parameters, p => Assert.Equal("", p.ParameterName));
    }

    [Fact]
    public void A_statement_naming_a_parameter_not_given_is_refused()
    {
        var command = new Npgsql.NpgsqlBatchCommand("SELECT @a, @b");
        command.Parameters.Add(new Npgsql.NpgsqlParameter("a", 1));
        Assert.Throws<InvalidOperationException>(() => PositionalSql.MakePositional(command));
    }
}

/// <summary>SQLite parameters named as the statement names them, so that binding finds each at its first look.</summary>
public sealed class SqliteParameterNameTests
{
    [Theory]
    [InlineData("id", "@id")]
    [InlineData("@id", "@id")]
    [InlineData("$id", "$id")]
    [InlineData(":id", ":id")]
    public void A_sqlite_parameter_carries_the_at_sign_of_the_statement_and_keeps_a_prefix_it_has(string given, string named) =>
        Assert.Equal(named, new Microsoft.Data.Sqlite.SqliteParameter().Named(given).ParameterName);

    [Fact]
    public void A_postgresql_parameter_keeps_its_bare_name() =>
        Assert.Equal("id", new Npgsql.NpgsqlParameter().Named("id").ParameterName);

    [Fact]
    public async Task A_statement_run_again_with_new_values_binds_each_by_its_name()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:");
        await connection.OpenAsync();
        await using var command = connection.Command("SELECT @b || '/' || @a").WithParameter("a", "1").WithParameter("b", "2");
        Assert.Equal("2/1", await command.ExecuteScalarAsync());
        command.Parameters[0].Value = "3";
        Assert.Equal("2/3", await command.ExecuteScalarAsync());
    }
}
