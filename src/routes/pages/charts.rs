//! Charts drawn on the server as SVG with plotters: the eNPS line with its
//! margin as a band and hidden periods as gaps, and (stacked) bars. Each chart
//! comes at two sizes, so a phone gets one whose text it can read; pages put a
//! table of the same figures beside every chart for screen readers.

use plotters::prelude::*;

/// One period of an eNPS trend: hidden (suppressed) periods have no value.
pub struct TrendPoint {
    pub label: String,
    /// eNPS and its margin of error.
    pub value: Option<(f64, f64)>,
}

pub struct Series<'a> {
    pub color: RGBColor,
    pub values: &'a [f64],
}

pub const ACCENT: RGBColor = RGBColor(10, 79, 196);
pub const VOLUNTARY: RGBColor = RGBColor(207, 34, 46);
pub const INVOLUNTARY: RGBColor = RGBColor(130, 80, 223);
pub const OTHER: RGBColor = RGBColor(110, 119, 129);
const GRID: RGBColor = RGBColor(222, 226, 230);
const INK: RGBColor = RGBColor(27, 31, 36);
const HIDDEN: RGBColor = RGBColor(234, 238, 242);

/// Pixel sizes of the wide and the phone rendering.
const WIDE: (u32, u32) = (760, 280);
const PHONE: (u32, u32) = (360, 240);

/// Both renderings, the phone one shown only on narrow screens (see pulse.css).
fn both(draw: impl Fn((u32, u32), usize, &mut String) -> Result<(), String>) -> String {
    let mut out = String::new();
    for (size, labels, class) in [(WIDE, 12, "wide"), (PHONE, 5, "phone")] {
        let mut svg = String::new();
        match draw(size, labels, &mut svg) {
            Ok(()) => {
                // The figures are in the table beside the chart; the picture is decoration for readers.
                let svg = svg.replacen(
                    "<svg ",
                    &format!(r#"<svg class="{class}" aria-hidden="true" focusable="false" "#),
                    1,
                );
                out.push_str(&svg);
            }
            Err(e) => tracing::error!(error = %e, "chart failed"),
        }
    }
    out
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Labels under a category axis: at most `max` of them, never between two categories.
fn label_count(n: usize, max: usize) -> usize {
    n.clamp(1, max)
}

fn category_label(labels: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    labels.get(i as usize).cloned().unwrap_or_default()
}

/// eNPS over time: a line per run of visible periods, the margin of error as a
/// band around it, and a grey column where a period is hidden.
pub fn enps_trend(points: &[TrendPoint]) -> String {
    let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    both(|size, max_labels, svg| {
        let n = points.len().max(1);
        let root = SVGBackend::with_string(svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(42)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), -100f64..100f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .y_labels(5)
            .x_labels(label_count(n, max_labels))
            .x_label_formatter(&|x| category_label(&labels, *x))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(("sans-serif", 16).into_font().color(&INK))
            .axis_style(OTHER)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                points
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.value.is_none())
                    .map(|(i, _)| {
                        Rectangle::new(
                            [(i as f64 - 0.45, -100.0), (i as f64 + 0.45, 100.0)],
                            HIDDEN.filled(),
                        )
                    }),
            )
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                [(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
                OTHER.stroke_width(1),
            ))
            .map_err(err)?;
        // Runs of consecutive visible periods; a hidden one breaks the line.
        let mut runs: Vec<Vec<(f64, f64, f64)>> = vec![];
        let mut run = vec![];
        for (i, p) in points.iter().enumerate() {
            match p.value {
                Some((v, m)) => run.push((i as f64, v, m)),
                None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                None => {}
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        for run in &runs {
            let clamp = |v: f64| v.clamp(-100.0, 100.0);
            if run.len() == 1 {
                let (x, v, m) = run[0];
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.12, clamp(v - m)), (x + 0.12, clamp(v + m))],
                        ACCENT.mix(0.2).filled(),
                    )))
                    .map_err(err)?;
            } else {
                let mut band: Vec<(f64, f64)> =
                    run.iter().map(|&(x, v, m)| (x, clamp(v + m))).collect();
                band.extend(run.iter().rev().map(|&(x, v, m)| (x, clamp(v - m))));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        band,
                        ACCENT.mix(0.2).filled(),
                    )))
                    .map_err(err)?;
                chart
                    .draw_series(LineSeries::new(
                        run.iter().map(|&(x, v, _)| (x, v)),
                        ACCENT.stroke_width(3),
                    ))
                    .map_err(err)?;
            }
            chart
                .draw_series(
                    run.iter()
                        .map(|&(x, v, _)| Circle::new((x, v), 4, ACCENT.filled())),
                )
                .map_err(err)?;
        }
        root.present().map_err(err)?;
        Ok(())
    })
}

/// Bars per category, the series stacked in order; `y_max` fixes the scale
/// (100 for percentages), otherwise it fits the tallest stack.
pub fn stacked_bars(
    labels: &[String],
    series: &[Series],
    y_max: Option<f64>,
    unit: &str,
) -> String {
    both(|size, max_labels, svg| {
        let n = labels.len().max(1);
        let tallest = (0..labels.len())
            .map(|i| {
                series
                    .iter()
                    .map(|s| s.values.get(i).copied().unwrap_or(0.0))
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        let top = y_max.unwrap_or_else(|| (tallest * 1.15).max(1.0));
        let root = SVGBackend::with_string(svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(46)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .y_labels(5)
            .x_labels(label_count(n, max_labels))
            .x_label_formatter(&|x| category_label(labels, *x))
            .y_label_formatter(&|y| {
                if top <= 10.0 {
                    format!("{y:.1}{unit}")
                } else {
                    format!("{y:.0}{unit}")
                }
            })
            .label_style(("sans-serif", 16).into_font().color(&INK))
            .axis_style(OTHER)
            .draw()
            .map_err(err)?;
        let mut base = vec![0.0; labels.len()];
        for s in series {
            let rects: Vec<Rectangle<(f64, f64)>> = (0..labels.len())
                .filter_map(|i| {
                    let v = s.values.get(i).copied().unwrap_or(0.0);
                    (v > 0.0).then(|| {
                        let r = Rectangle::new(
                            [
                                (i as f64 - 0.36, base[i]),
                                (i as f64 + 0.36, (base[i] + v).min(top)),
                            ],
                            s.color.filled(),
                        );
                        base[i] += v;
                        r
                    })
                })
                .collect();
            chart.draw_series(rects).map_err(err)?;
        }
        root.present().map_err(err)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(label: &str, v: Option<f64>) -> TrendPoint {
        TrendPoint {
            label: label.into(),
            value: v.map(|v| (v, 10.0)),
        }
    }

    #[test]
    fn trend_draws_two_sizes_and_breaks_at_hidden_periods() {
        let svg = enps_trend(&[
            point("Jan", Some(10.0)),
            point("Feb", Some(20.0)),
            point("Mar", None),
            point("Apr", Some(5.0)),
            point("May", Some(0.0)),
        ]);
        assert_eq!(svg.matches("<svg ").count(), 2);
        assert!(svg.contains(r#"aria-hidden="true""#));
        // Per size: one line and one margin band for each of the two runs.
        let lines = svg
            .lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(r##"stroke="#0A4FC4""##))
            .count();
        assert_eq!(lines, 2 * 2);
        assert_eq!(svg.matches("<polygon").count(), 2 * 2);
        assert!(svg.contains(">\nJan\n<") && svg.contains(">\nMay\n<"));
    }

    #[test]
    fn bars_stack_series() {
        let labels = vec!["Q1".to_string(), "Q2".to_string()];
        let a = [1.0, 2.0];
        let b = [0.5, 0.0];
        let svg = stacked_bars(
            &labels,
            &[
                Series {
                    color: VOLUNTARY,
                    values: &a,
                },
                Series {
                    color: INVOLUNTARY,
                    values: &b,
                },
            ],
            None,
            "%",
        );
        assert_eq!(svg.matches("<svg ").count(), 2);
        assert!(svg.contains(">\nQ2\n<"));
        // Two bars for Q1 (stacked), one for Q2, at each size.
        assert_eq!(svg.matches(r##"fill="#CF222E""##).count(), 2 * 2);
        assert_eq!(svg.matches(r##"fill="#8250DF""##).count(), 2);
    }

    #[test]
    fn labels_sit_on_categories_only() {
        let labels = vec!["a".to_string(), "b".to_string()];
        assert_eq!(category_label(&labels, 1.0), "b");
        assert_eq!(category_label(&labels, 0.5), "");
        assert_eq!(category_label(&labels, 7.0), "");
    }
}
