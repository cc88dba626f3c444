namespace Collections.Scoring.Tests;

public class ZipIncomeBandsTests
{
    private const string CensusExport = """
        "GEO_ID","NAME","B19013_001E","B19013_001M",
        "Geography","Geographic Area Name","Estimate!!Median household income in the past 12 months (in 2023 inflation-adjusted dollars)","Margin of Error!!Median household income",
        "860Z200US00601","ZCTA5 00601","17526","2114",
        "860Z200US00602","ZCTA5 00602","-","**",
        "860Z200US10007","ZCTA5 10007","250,000+","***",
        "860Z200US99999","ZCTA5 99999","2,500-","***",
        "860Z200US78701","ZCTA5 78701","98,431","6,532",
        """;

    [Fact]
    public void The_census_export_is_read_with_its_label_row_missing_estimates_and_top_and_bottom_codes()
    {
        var bands = ZipIncomeBands.Parse(new StringReader(CensusExport), "b19013.csv");

        Assert.Equal(4, bands.Count); // 00602 has no estimate
        Assert.Equal("under $40k", bands.BandOf("00601"));
        Assert.Equal(ZipIncomeBands.Unknown, bands.BandOf("00602"));
        Assert.Equal(ZipIncomeBands.TopBand, bands.BandOf("10007"));
        Assert.Equal("under $40k", bands.BandOf("99999"));
        Assert.Equal("$85k-120k", bands.BandOf("78701-1234")); // ZIP+4 reads its five digits
        Assert.Equal(ZipIncomeBands.Unknown, bands.BandOf("12345"));
        Assert.Equal(ZipIncomeBands.Unknown, bands.BandOf(null));
        Assert.Equal(ZipIncomeBands.Unknown, bands.BandOf("7870"));
    }

    [Fact]
    public void A_plain_table_with_a_zip_column_keeps_leading_zeros_a_spreadsheet_dropped()
    {
        var bands = ZipIncomeBands.Parse(new StringReader("zip,median_income\n601,39999\n02139,\"60,000\"\n10001,-666666666\n"), "plain.csv");

        Assert.Equal("under $40k", bands.BandOf("00601"));
        Assert.Equal("$60k-85k", bands.BandOf("02139"));
        Assert.Equal(ZipIncomeBands.Unknown, bands.BandOf("10001")); // the Census API's "no estimate" annotation
    }

    [Theory]
    [InlineData(39_999.99, "under $40k")]
    [InlineData(40_000, "$40k-60k")]
    [InlineData(84_999, "$60k-85k")]
    [InlineData(120_000, "$120k and over")]
    public void Bands_are_by_median_household_income(double income, string band) => Assert.Equal(band, ZipIncomeBands.Band((decimal)income));

    [Theory]
    [InlineData("zip,population\n78701,1000\n", "plain.csv, line 1: no income column")]
    [InlineData("zip,median_income\n7870A,50000\n", "plain.csv, line 2: '7870A' is not a five-digit ZIP code")]
    [InlineData("zip,median_income\n78701,lots\n", "plain.csv, line 2: 'lots' is not an income")]
    [InlineData("", "plain.csv: the file is empty")]
    public void A_bad_table_names_the_file_line_and_value(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => ZipIncomeBands.Parse(new StringReader(text), "plain.csv"));
        Assert.StartsWith(message, error.Message);
    }
}
