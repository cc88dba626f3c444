using ScottPlot;
using SkiaSharp;

namespace Collections.Scoring;

/// <summary>Draws the report's chart with ScottPlot: calibration curve, cumulative gains, lift by decile, side by side.</summary>
internal static class ReportChart
{
    private const string FontName = "DejaVu Sans";
    private static readonly Lock Gate = new();
    private static bool _fontsRegistered;

    public static void Write(EvaluationReport report, string path)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(path);
        RegisterFonts();
        const int panelWidth = 600, height = 520;
        using var surface = SKSurface.Create(new SKImageInfo(panelWidth * 3, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        Plot[] plots = [CalibrationPlot(report), GainsPlot(report), LiftPlot(report)];
        for (var i = 0; i < plots.Length; i++)
        {
            // Each panel on its own surface (a plot fills the whole canvas it is given), then side by side.
            plots[i].Font.Set(FontName);
            using var panel = SKSurface.Create(new SKImageInfo(panelWidth, height));
            plots[i].Render(panel);
            using var image = panel.Snapshot();
            canvas.DrawImage(image, i * panelWidth, 0);
        }
        using var chart = surface.Snapshot();
        using var png = chart.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static Plot CalibrationPlot(EvaluationReport report)
    {
        var plot = new Plot();
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.Color = Colors.Gray;
        diagonal.LegendText = "perfect calibration";
        var bins = report.Calibration.Where(b => b.Count > 0).ToList();
        var curve = plot.Add.Scatter(bins.Select(b => b.MeanPredicted).ToArray(), bins.Select(b => b.ObservedRate).ToArray());
        curve.LegendText = "model";
        curve.MarkerSize = 8;
        curve.LineWidth = 2;
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.Title("Calibration (evaluation rows)");
        plot.XLabel("mean predicted probability");
        plot.YLabel(report.AboutPaying ? "observed rate of paying" : $"observed rate of {report.PositiveClass}");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot GainsPlot(EvaluationReport report)
    {
        var plot = new Plot();
        var deciles = report.Deciles;
        var total = deciles.Sum(d => d.Count);
        var positives = deciles.Sum(d => d.Count * d.PositiveRate);
        var dollars = (double)deciles.Sum(d => d.CapturedDollars);
        double[] xs = new double[deciles.Count + 1], payers = new double[deciles.Count + 1], collected = new double[deciles.Count + 1];
        double rows = 0, pos = 0, cash = 0;
        for (var i = 0; i < deciles.Count; i++)
        {
            rows += deciles[i].Count;
            pos += deciles[i].Count * deciles[i].PositiveRate;
            cash += (double)deciles[i].CapturedDollars;
            xs[i + 1] = total > 0 ? rows / total : 0;
            payers[i + 1] = positives > 0 ? pos / positives : 0;
            collected[i + 1] = dollars > 0 ? cash / dollars : 0;
        }
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.Color = Colors.Gray;
        diagonal.LegendText = "random order";
        var accounts = plot.Add.Scatter(xs, payers);
        accounts.LegendText = report.AboutPaying ? "accounts that paid" : $"rows with {report.PositiveClass}";
        accounts.LineWidth = 2;
        if (report.HasAmounts)
        {
            var money = plot.Add.Scatter(xs, collected);
            money.LegendText = "dollars collected";
            money.LineWidth = 2;
        }
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.Title("Cumulative gains (highest scores first)");
        plot.XLabel("share of accounts worked");
        plot.YLabel("share captured");
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static Plot LiftPlot(EvaluationReport report)
    {
        var plot = new Plot();
        // One series, named by the title: no legend, so none can sit over a bar.
        plot.Add.Bars(report.Deciles.Select(d => (double)d.Decile).ToArray(), report.Deciles.Select(d => d.Lift).ToArray());
        var one = plot.Add.HorizontalLine(1);
        one.LinePattern = LinePattern.Dashed;
        one.Color = Colors.Gray;
        plot.Axes.Margins(bottom: 0);
        plot.Title("Lift by score decile");
        plot.XLabel("decile (1 = highest scores)");
        plot.YLabel(report.AboutPaying ? "paid rate / overall rate" : "positive rate / overall rate");
        return plot;
    }

    /// <summary>Registers the embedded DejaVu Sans with ScottPlot once (no system fonts on a server).</summary>
    private static void RegisterFonts()
    {
        lock (Gate)
        {
            if (_fontsRegistered) return;
            Fonts.FontResolvers.Add(new EmbeddedFontResolver());
            Fonts.Default = FontName;
            _fontsRegistered = true;
        }
    }

    private sealed class EmbeddedFontResolver : IFontResolver
    {
        private readonly SKTypeface _regular = Load("fonts/DejaVuSans.ttf");
        private readonly SKTypeface _bold = Load("fonts/DejaVuSans-Bold.ttf");

        public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing) =>
            weight >= FontWeight.SemiBold ? _bold : _regular;

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) => bold ? _bold : _regular;

        private static SKTypeface Load(string resource)
        {
            using var stream = typeof(ReportChart).Assembly.GetManifestResourceStream(resource)
                               ?? throw new InvalidOperationException($"Embedded font {resource} is missing.");
            return SKTypeface.FromStream(stream) ?? throw new InvalidOperationException($"Embedded font {resource} could not be read.");
        }
    }
}
