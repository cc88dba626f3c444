using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Collections.Domain;

namespace Collections.Cli.Import;

public enum ImportKind
{
    Guarantors,
    Accounts,
    Transactions,
}

/// <summary>One problem with one CSV row: the row number (the header is row 1), the column and the reason.</summary>
public sealed record RowError(long Row, string Column, string Reason);

/// <summary>A row checked locally and turned into one API call.</summary>
public sealed record PreparedRow(long Row, string Path, JsonObject Body, string? IdempotencyKey, IReadOnlyList<string> PhoneColumns);

/// <summary>The documented CSV headers (docs/import.md) and the mapping of one row to the body of one API call.</summary>
public static class ImportSchema
{
    public static IReadOnlyList<string> Required(ImportKind kind) => kind switch
    {
        ImportKind.Guarantors => ["guarantor_id", "first_name", "last_name"],
        ImportKind.Accounts => ["facility", "account_number", "guarantor_id"],
        _ => ["facility", "account_number", "transaction_id", "kind", "amount", "effective_date"],
    };

    public static IReadOnlyList<string> Optional(ImportKind kind) => kind switch
    {
        ImportKind.Guarantors => ["date_of_birth", "address_line1", "address_line2", "city", "state", "zip", "mobile_phone", "home_phone", "email", "preferred_channel", "time_zone"],
        ImportKind.Accounts => ["primary_payer", "admit_date", "discharge_date", "patient_first_name", "patient_last_name", "patient_date_of_birth"],
        _ => ["service_date", "code", "description", "payer", "claim_reference", "method", "reference", "category", "reason_code", "direction", "reverses_transaction_id"],
    };

    /// <summary>The one-line reason a header is unusable, or null when it has every required column and no unknown one.</summary>
    public static string? CheckHeader(ImportKind kind, IReadOnlyList<string> header)
    {
        var known = Required(kind).Concat(Optional(kind)).ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var column in header)
        {
            if (!known.Contains(column)) return $"unknown column '{column}' (see docs/import.md for the {Name(kind)} header)";
            if (!seen.Add(column)) return $"column '{column}' appears twice";
        }
        var missing = Required(kind).Where(c => !seen.Contains(c)).ToList();
        return missing.Count == 0 ? null
            : $"missing required column{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"'{m}'"))} (see docs/import.md for the {Name(kind)} header)";
    }

    public static string Name(ImportKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>Checks one row locally and builds the API call, or returns every problem found in it.</summary>
    public static (PreparedRow? Prepared, List<RowError> Errors) Prepare(ImportKind kind, long row, Func<string, string?> get)
    {
        var errors = new List<RowError>();
        var reader = new RowReader(row, get, errors);
        PreparedRow? prepared = kind switch
        {
            ImportKind.Guarantors => Guarantor(row, reader),
            ImportKind.Accounts => Account(row, reader),
            _ => Transaction(row, reader),
        };
        return errors.Count > 0 ? (null, errors) : (prepared, errors);
    }

    private static PreparedRow Guarantor(long row, RowReader r)
    {
        var body = new JsonObject
        {
            ["guarantorId"] = r.Required("guarantor_id"),
            ["firstName"] = r.Text("first_name"),
            ["lastName"] = r.Text("last_name"),
            ["dateOfBirth"] = r.Date("date_of_birth"),
            ["email"] = r.Text("email"),
            ["preferredChannel"] = r.Enum<ContactChannel>("preferred_channel"),
            ["timeZone"] = r.Text("time_zone"),
        };
        string?[] address = [r.Text("address_line1"), r.Text("address_line2"), r.Text("city"), r.Text("state"), r.Text("zip")];
        if (address.Any(a => a is not null))
            body["address"] = new JsonObject { ["line1"] = address[0], ["line2"] = address[1], ["city"] = address[2], ["state"] = address[3], ["zip"] = address[4] };
        var phones = new JsonArray();
        var phoneColumns = new List<string>();
        foreach (var (column, type) in new[] { ("mobile_phone", "mobile"), ("home_phone", "landline") })
        {
            if (r.Text(column) is not { } number) continue;
            phones.Add(new JsonObject { ["number"] = number, ["type"] = type });
            phoneColumns.Add(column);
        }
        if (phones.Count > 0) body["phones"] = phones;
        return new PreparedRow(row, "/api/guarantors", body, null, phoneColumns);
    }

    private static PreparedRow Account(long row, RowReader r)
    {
        var body = new JsonObject
        {
            ["facility"] = r.Required("facility"),
            ["accountNumber"] = r.Required("account_number"),
            ["guarantorId"] = r.Required("guarantor_id"),
            ["primaryPayer"] = r.Text("primary_payer"),
            ["admitDate"] = r.Date("admit_date"),
            ["dischargeDate"] = r.Date("discharge_date"),
            // Opened as an import: nobody is contacted until its history (the transactions import) has posted; the
            // transactions import settles it, or it settles itself a day later.
            ["importing"] = true,
        };
        string?[] patient = [r.Text("patient_first_name"), r.Text("patient_last_name"), r.Date("patient_date_of_birth")];
        if (patient.Any(p => p is not null))
            body["patient"] = new JsonObject { ["firstName"] = patient[0], ["lastName"] = patient[1], ["dateOfBirth"] = patient[2] };
        return new PreparedRow(row, "/api/accounts", body, null, []);
    }

    private static PreparedRow? Transaction(long row, RowReader r)
    {
        var facility = r.Required("facility");
        var accountNumber = r.Required("account_number");
        var transactionId = r.Required("transaction_id");
        if (r.Text("reverses_transaction_id") is not null)
            r.Error("reverses_transaction_id", "reversals by source transaction id are not supported yet; post the reversal through the API with the entry id");
        var body = new JsonObject
        {
            ["kind"] = r.Enum<EntryKind>("kind", required: true),
            ["amount"] = r.Decimal("amount"),
            ["effectiveDate"] = r.Date("effective_date", required: true),
            ["serviceDate"] = r.Date("service_date"),
            ["code"] = r.Text("code"),
            ["description"] = r.Text("description"),
            ["payer"] = r.Text("payer"),
            ["claimReference"] = r.Text("claim_reference"),
            ["method"] = r.Enum<PaymentMethod>("method"),
            ["reference"] = r.Text("reference"),
            ["category"] = r.Enum<AdjustmentCategory>("category"),
            ["reasonCode"] = r.Text("reason_code"),
            ["direction"] = r.Enum<TransferDirection>("direction"),
        };
        if (facility is null || accountNumber is null || transactionId is null) return null;
        var path = $"/api/accounts/{Uri.EscapeDataString(facility)}/{Uri.EscapeDataString(accountNumber)}/entries";
        return new PreparedRow(row, path, body, $"import:{facility}/{accountNumber}:{transactionId}", []);
    }

    /// <summary>The CSV column an API error field (e.g. <c>address.zip</c>, <c>patient.firstName</c>, <c>phones[1].number</c>) came from.</summary>
    public static string ColumnFor(string? field, PreparedRow row)
    {
        if (string.IsNullOrWhiteSpace(field)) return "";
        if (field.Equals("Idempotency-Key", StringComparison.OrdinalIgnoreCase)) return "transaction_id";
        if (field.StartsWith("phones", StringComparison.OrdinalIgnoreCase))
        {
            var open = field.IndexOf('[', StringComparison.Ordinal);
            var close = field.IndexOf(']', StringComparison.Ordinal);
            if (open > 0 && close > open && int.TryParse(field[(open + 1)..close], CultureInfo.InvariantCulture, out var i) && i >= 0 && i < row.PhoneColumns.Count)
                return row.PhoneColumns[i];
            return row.PhoneColumns.Count == 1 ? row.PhoneColumns[0] : "mobile_phone";
        }
        var snake = Snake(field.Replace('.', '_'));
        return snake switch
        {
            "reverses_entry_id" => "reverses_transaction_id",
            "address" => "address_line1",
            "address_city" => "city",
            "address_state" => "state",
            "address_zip" => "zip",
            "phones" => row.PhoneColumns.Count > 0 ? row.PhoneColumns[0] : "mobile_phone",
            _ => snake,
        };
    }

    private static string Snake(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && name[i - 1] != '_') builder.Append('_');
                builder.Append(char.ToLowerInvariant(c));
            }
            else builder.Append(c);
        }
        return builder.ToString();
    }

    private sealed class RowReader(long row, Func<string, string?> get, List<RowError> errors)
    {
        public void Error(string column, string reason) => errors.Add(new RowError(row, column, reason));

        public string? Text(string column)
        {
            var value = get(column);
            if (string.IsNullOrWhiteSpace(value)) return null;
            return CsvRules.OneLine(value.Trim());
        }

        public string? Required(string column)
        {
            var value = Text(column);
            if (value is null) Error(column, "required; the cell is empty");
            return value;
        }

        public string? Date(string column, bool required = false)
        {
            var value = required ? Required(column) : Text(column);
            if (value is null) return null;
            if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                return date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            Error(column, $"'{value}' is not a date in the form yyyy-MM-dd");
            return null;
        }

        public decimal? Decimal(string column)
        {
            var value = Required(column);
            if (value is null) return null;
            if (decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
                return amount;
            Error(column, $"'{value}' is not a decimal amount (digits with an optional '.' and sign, no currency symbol or thousands separator)");
            return null;
        }

        public string? Enum<T>(string column, bool required = false) where T : struct, System.Enum
        {
            var value = required ? Required(column) : Text(column);
            if (value is null) return null;
            var names = System.Enum.GetNames<T>();
            var match = names.FirstOrDefault(n => n.Equals(value, StringComparison.OrdinalIgnoreCase));
            if (match is not null) return JsonNamingPolicy.CamelCase.ConvertName(match);
            Error(column, $"'{value}' is not one of {string.Join(", ", names.Select(JsonNamingPolicy.CamelCase.ConvertName))}");
            return null;
        }
    }
}
