namespace Collections.Domain.Tests;

public sealed class AccountNotesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_note_is_added_once_per_key_and_the_key_with_other_words_is_refused()
    {
        var (first, replay, errors) = AccountNotes.Add("  Called back about the bill.\r\nWill pay Friday.  ", "k1", [], "agent-1", Now);
        Assert.Empty(errors);
        Assert.False(replay);
        Assert.Equal(("N1", "Called back about the bill.\nWill pay Friday.", "agent-1"), (first!.NoteId, first.Text, first.WrittenBy));

        var again = AccountNotes.Add("Called back about the bill.\nWill pay Friday.", "k1", [first], "agent-1", Now.AddMinutes(1));
        Assert.True(again.Replay);
        Assert.Same(first, again.Note);

        var other = AccountNotes.Add("Something else", "k1", [first], "agent-1", Now);
        Assert.Equal("idempotency-key.reused", Assert.Single(other.Errors).Code);
        Assert.Equal("N2", AccountNotes.Add("Second note", "k2", [first], "agent-2", Now).Note!.NoteId);
    }

    [Theory]
    [InlineData("   ", "k", "text.required")]
    [InlineData("tab\there", "k", "text.control-characters")]
    [InlineData("fine", null, "idempotency-key.required")]
    public void A_note_without_words_with_control_characters_or_without_a_key_is_refused(string text, string? key, string code) =>
        Assert.Contains(AccountNotes.Add(text, key, [], "agent", Now).Errors, e => e.Code == code);

    [Fact]
    public void An_account_keeps_at_most_fifty_notes_and_a_key_too_long_is_invalid()
    {
        var notes = Enumerable.Range(1, AccountNotes.MaxNotes).Select(i => AccountNotes.Add($"note {i}", $"k{i}", [], "agent", Now).Note! with { NoteId = $"N{i}" }).ToList();
        Assert.Equal("notes.too-many", Assert.Single(AccountNotes.Add("one more", "k-new", notes, "agent", Now).Errors).Code);
        Assert.True(AccountNotes.Add("note 3", "k3", notes, "agent", Now).Replay); // a retry is still answered
        Assert.Equal("idempotency-key.invalid", Assert.Single(AccountNotes.Add("x", new string('k', 201), [], "agent", Now).Errors).Code);
    }

    [Fact]
    public void A_note_longer_than_a_thousand_characters_is_refused() =>
        Assert.Equal("text.too-long", Assert.Single(AccountNotes.Add(new string('a', 1001), "k", [], "agent", Now).Errors).Code);

    [Fact]
    public void A_calls_note_names_its_outcome_and_is_kept_under_the_calls_own_key_even_a_long_one()
    {
        var (none, noErrors) = AccountNotes.ForCall("  ", "noAnswer", "k", [], "agent", Now);
        Assert.Null(none);
        Assert.Empty(noErrors);
        var (note, _) = AccountNotes.ForCall(" Asked for an itemised bill ", "rightPartyContact", "worklist-k1", [], "agent", Now);
        Assert.Equal(("Call, rightPartyContact: Asked for an itemised bill", "call/worklist-k1"), (note!.Text, note.IdempotencyKey));
        var (longKeyed, longErrors) = AccountNotes.ForCall("x", "dispute", "worklist-" + new string('k', 200), [], "agent", Now);
        Assert.Empty(longErrors);
        Assert.Equal(69, longKeyed!.IdempotencyKey.Length); // "call/" and a SHA-256 in hex
        Assert.Equal(longKeyed.IdempotencyKey, AccountNotes.ForCall("x", "dispute", "worklist-" + new string('k', 200), [], "agent", Now).Note!.IdempotencyKey);

        // Already on the account (the call was recorded before): nothing to add again, and it is not "not kept".
        var (again, againErrors) = AccountNotes.ForCall(" Asked for an itemised bill ", "rightPartyContact", "worklist-k1", [note], "agent", Now);
        Assert.Null(again);
        Assert.Empty(againErrors);
        Assert.Null(AccountNotes.NotKeptOnRetry("Asked for an itemised bill", "worklist-k1", [note]));
        Assert.NotNull(AccountNotes.NotKeptOnRetry("Asked for an itemised bill", "worklist-k2", [note]));
        Assert.Null(AccountNotes.NotKeptOnRetry(null, "worklist-k2", [note]));
    }
}
