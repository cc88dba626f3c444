namespace Collections.Persistence;

/// <summary>
/// A question asked of the database once per process, its answer kept (whether an old table holds rows). A failure to
/// answer is not an answer: it fails the caller, and the next caller asks again.
/// </summary>
public sealed class AnsweredOnce<T>(Func<Task<T>> ask)
{
    private Task<T>? _answer;

    public async Task<T> GetAsync()
    {
        var answer = _answer ??= ask();
        try
        {
            return await answer;
        }
        catch
        {
            _ = Interlocked.CompareExchange(ref _answer, null, answer);
            throw;
        }
    }
}
