//! SVG plots the bench suites write next to their tables (plotters, SVG
//! backend only: no system libraries, text is left to the SVG viewer).

use std::path::Path;
use std::time::Duration;

use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// One line of a log-log chart.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Dashed lines share the colour of the solid series of the same
    /// `color` index (p99 drawn dashed next to its p50, say).
    pub dashed: bool,
    pub color: usize,
}

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("plot: {e}")
}

/// Range padded by a factor on each side, so end points are not on the frame.
fn log_bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (1.0, 10.0);
    }
    (lo / 1.6, hi * 1.6)
}

fn ensure_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    Ok(())
}

/// A log-log line chart, one line per series with a dot at each point.
pub fn log_log_lines(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
) -> anyhow::Result<()> {
    ensure_parent(path)?;
    let (x0, x1) = log_bounds(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (y0, y1) = log_bounds(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let root = SVGBackend::new(path, (1240, 680)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    // the legend gets its own column: on a log-log chart the data spans the
    // whole height at both ends, so no corner of the plot is free
    let (left, legend) = root.split_horizontally(880);
    let mut chart = ChartBuilder::on(&left)
        .caption(title, ("sans-serif", 20))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| short_si(*y))
        .draw()
        .map_err(err)?;
    for (i, s) in series.iter().enumerate() {
        let style = Palette99::pick(s.color).stroke_width(2);
        let y = 60 + 22 * i as i32;
        if s.dashed {
            chart
                .draw_series(DashedLineSeries::new(s.points.clone(), 8, 5, style))
                .map_err(err)?;
            legend
                .draw(&DashedPathElement::new(vec![(8, y), (40, y)], 6, 4, style))
                .map_err(err)?;
        } else {
            chart
                .draw_series(LineSeries::new(s.points.clone(), style))
                .map_err(err)?;
            legend
                .draw(&PathElement::new(vec![(8, y), (40, y)], style))
                .map_err(err)?;
        }
        legend
            .draw(&Text::new(
                s.label.clone(),
                (48, y - 7),
                ("sans-serif", 13).into_font(),
            ))
            .map_err(err)?;
        chart
            .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, style.filled())))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// Seconds as a short label: 1.5 ms, 20 µs, 2 s.
fn short_si(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.3}s")
    } else if secs >= 1e-3 {
        format!("{}ms", trim(secs * 1e3))
    } else {
        format!("{}µs", trim(secs * 1e6))
    }
}

fn trim(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Empirical CDFs of latency samples (one line per labelled set), linear
/// time axis in milliseconds: what fraction of trials finished within x.
pub fn latency_cdf(
    path: &Path,
    title: &str,
    sets: &[(String, Vec<Duration>)],
) -> anyhow::Result<()> {
    ensure_parent(path)?;
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let x1 = sets
        .iter()
        .flat_map(|(_, v)| v.iter().map(ms))
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.05;
    let root = SVGBackend::new(path, (1000, 620)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x1, 0.0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("latency (ms)")
        .y_desc("fraction of trials ≤ x")
        .draw()
        .map_err(err)?;
    for (i, (label, samples)) in sets.iter().enumerate() {
        let mut sorted: Vec<f64> = samples.iter().map(ms).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len().max(1) as f64;
        // a step function: each sample lifts the curve by 1/n
        let mut points = vec![(0.0, 0.0)];
        for (k, x) in sorted.iter().enumerate() {
            points.push((*x, k as f64 / n));
            points.push((*x, (k + 1) as f64 / n));
        }
        let style = Palette99::pick(i).stroke_width(2);
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(err)?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_are_written_as_svg_with_every_label() {
        let dir = tempfile::tempdir().unwrap();
        let lines = dir.path().join("sub/lines.svg");
        let series = vec![
            Series {
                label: "alpha p50".into(),
                points: vec![(1000.0, 1e-4), (10000.0, 2e-3)],
                dashed: false,
                color: 0,
            },
            Series {
                label: "alpha p99".into(),
                points: vec![(1000.0, 3e-4), (10000.0, 5e-3)],
                dashed: true,
                color: 0,
            },
        ];
        log_log_lines(&lines, "t", "nodes", "time", &series).unwrap();
        let svg = std::fs::read_to_string(&lines).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(svg.contains("alpha p50") && svg.contains("alpha p99"));

        let cdf = dir.path().join("cdf.svg");
        let samples = (1..=50).map(|i| Duration::from_micros(i * 100)).collect();
        latency_cdf(&cdf, "reroute", &[("100 devices".into(), samples)]).unwrap();
        let svg = std::fs::read_to_string(&cdf).unwrap();
        assert!(svg.contains("100 devices") && svg.contains("latency (ms)"));
    }
}
