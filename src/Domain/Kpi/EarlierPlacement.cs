namespace Collections.Domain.Kpi;

/// <summary>
/// A placement with a collection agency that was recalled before the account was placed again: the account's own
/// fields hold only the current placement, so the daily figures keep the earlier one's days from here.
/// </summary>
[GenerateSerializer, Immutable, Alias("collections.EarlierPlacement")]
public sealed record EarlierPlacement([property: Id(0)] DateTimeOffset PlacedAt, [property: Id(1)] DateTimeOffset RecalledAt);
