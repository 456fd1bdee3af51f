//! The status page's pictures of the last hour: small inline SVG charts drawn here on
//! the server from the per-minute history (no script, no external asset, so the page
//! works offline and in a locked-down network). `/api/history` has the same figures.

use std::fmt::Write as _;

use connector_actors::metrics::Minute;

use super::html::esc;

const W: f64 = 360.0;
const H: f64 = 110.0;
const LEFT: f64 = 34.0;
const RIGHT: f64 = 6.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 18.0;

/// How a chart draws its series.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    /// Bars stacked per minute.
    StackedBars,
    /// One line per series, broken where a minute has no figure.
    Lines,
}

struct Series {
    name: &'static str,
    color: &'static str,
    values: Vec<Option<f64>>,
}

/// The five charts of the last hour, as one HTML section.
pub fn section(minutes: &[Minute]) -> String {
    let col = |f: &dyn Fn(&Minute) -> Option<f64>| minutes.iter().map(f).collect::<Vec<_>>();
    let count = |n: u64| Some(n as f64);
    let lane = |i: usize| col(&|m: &Minute| m.queue.map(|q| q[i] as f64));
    let unreachable =
        col(&|m: &Minute| m.directories.zip(m.directories_reachable).map(|(all, up)| all.saturating_sub(up) as f64));
    let charts = [
        chart(
            "jobs",
            "Jobs per minute",
            "jobs",
            Style::StackedBars,
            vec![
                Series { name: "succeeded", color: "#2a7", values: col(&|m: &Minute| count(m.succeeded)) },
                Series { name: "failed", color: "#c33", values: col(&|m: &Minute| count(m.failed)) },
            ],
        ),
        chart(
            "logins",
            "Login time in the connector",
            "ms",
            Style::Lines,
            vec![
                Series { name: "p50", color: "#37c", values: col(&|m: &Minute| m.login_p50_ms) },
                Series { name: "p99", color: "#e80", values: col(&|m: &Minute| m.login_p99_ms) },
            ],
        ),
        chart(
            "queue",
            "Queue depth by lane (waiting + running)",
            "jobs",
            Style::Lines,
            vec![
                Series { name: "interactive", color: "#37c", values: lane(0) },
                Series { name: "normal", color: "#2a7", values: lane(1) },
                Series { name: "bulk", color: "#a5c", values: lane(2) },
            ],
        ),
        chart(
            "directories",
            "Directory round trip and unreachable directories",
            "ms",
            Style::Lines,
            vec![
                Series { name: "round trip (ms)", color: "#37c", values: col(&|m: &Minute| m.directory_rtt_ms) },
                Series { name: "unreachable", color: "#c33", values: unreachable },
            ],
        ),
        chart(
            "link",
            "Portal request errors per minute",
            "errors",
            Style::StackedBars,
            vec![Series { name: "errors", color: "#c33", values: col(&|m: &Minute| count(m.link_errors)) }],
        ),
    ];
    format!("<section id=\"history\"><h2>The last hour</h2><div class=\"charts\">{}</div></section>", charts.join(""))
}

/// The top of the y axis: the largest figure rounded up to 1, 2 or 5 × 10ⁿ.
fn nice_max(largest: f64) -> f64 {
    if largest <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(largest.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|f| f * magnitude).find(|top| *top >= largest).unwrap_or(10.0 * magnitude)
}

fn chart(id: &str, title: &str, unit: &str, style: Style, series: Vec<Series>) -> String {
    let slots = series.first().map_or(0, |s| s.values.len()).max(1);
    let largest = match style {
        Style::StackedBars => {
            (0..slots).map(|i| series.iter().filter_map(|s| s.values[i]).sum::<f64>()).fold(0.0, f64::max)
        }
        Style::Lines => series.iter().flat_map(|s| s.values.iter().flatten()).copied().fold(0.0, f64::max),
    };
    let top = nice_max(largest);
    let (plot_w, plot_h) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x = |i: usize| LEFT + plot_w * (i as f64 + 0.5) / slots as f64;
    let y = |v: f64| TOP + plot_h * (1.0 - v / top);
    let mut svg = format!(
        "<svg data-chart=\"{id}\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\">\
         <title>{}</title><line x1=\"{LEFT}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"9\" text-anchor=\"end\">{}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"9\" text-anchor=\"end\">0</text>\
         <text x=\"{LEFT}\" y=\"{}\" font-size=\"9\">−60 min</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"9\" text-anchor=\"end\">now</text>",
        esc(&summary(title, unit, &series)),
        TOP + plot_h,
        W - RIGHT,
        TOP + plot_h,
        LEFT - 3.0,
        TOP + 8.0,
        trim(top),
        LEFT - 3.0,
        TOP + plot_h,
        H - 4.0,
        W - RIGHT,
        H - 4.0,
    );
    match style {
        Style::StackedBars => bars(&mut svg, &series, slots, plot_w / slots as f64, &x, &y),
        Style::Lines => lines(&mut svg, &series, &x, &y),
    }
    svg.push_str("</svg>");
    let legend: String =
        series.iter().map(|s| format!("<span style=\"color:{}\">■</span> {} ", s.color, esc(s.name))).collect();
    format!("<figure><figcaption>{} <small>{}</small></figcaption>{svg}</figure>", esc(title), legend)
}

fn bars(
    svg: &mut String,
    series: &[Series],
    slots: usize,
    slot_w: f64,
    x: &dyn Fn(usize) -> f64,
    y: &dyn Fn(f64) -> f64,
) {
    for i in 0..slots {
        let mut base = 0.0;
        for s in series {
            let v = s.values[i].unwrap_or(0.0);
            if v <= 0.0 {
                continue;
            }
            let (y0, y1) = (y(base), y(base + v));
            let _ = write!(
                svg,
                "<rect class=\"bar\" data-series=\"{}\" data-value=\"{}\" x=\"{:.1}\" y=\"{y1:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"/>",
                s.name,
                trim(v),
                x(i) - slot_w * 0.4,
                slot_w * 0.8,
                y0 - y1,
                s.color
            );
            base += v;
        }
    }
}

fn lines(svg: &mut String, series: &[Series], x: &dyn Fn(usize) -> f64, y: &dyn Fn(f64) -> f64) {
    for s in series {
        let mut run: Vec<String> = Vec::new();
        let flush = |run: &mut Vec<String>, svg: &mut String| {
            if !run.is_empty() {
                let _ = write!(
                    svg,
                    "<polyline class=\"line\" data-series=\"{}\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>",
                    s.name,
                    run.join(" "),
                    s.color
                );
                run.clear();
            }
        };
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => run.push(format!("{:.1},{:.1}", x(i), y(*v))),
                None => flush(&mut run, svg),
            }
        }
        flush(&mut run, svg);
    }
}

/// The chart's title with each series' last figure, for screen readers and tooltips.
fn summary(title: &str, unit: &str, series: &[Series]) -> String {
    let last: Vec<String> = series
        .iter()
        .map(|s| match s.values.iter().rev().find_map(|v| *v) {
            Some(v) => format!("{} {} {unit}", s.name, trim(v)),
            None => format!("{} no figure", s.name),
        })
        .collect();
    format!("{title}, last hour; latest: {}", last.join(", "))
}

fn trim(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(succeeded: u64, failed: u64, p50: Option<f64>) -> Minute {
        let mut m = Minute::default();
        (m.succeeded, m.failed, m.login_p50_ms) = (succeeded, failed, p50);
        m
    }

    #[test]
    fn bars_stack_and_lines_break_where_a_minute_has_no_figure() {
        let minutes = vec![minute(3, 1, Some(4.0)), minute(0, 0, None), minute(5, 0, Some(6.0))];
        let html = section(&minutes);
        assert_eq!(html.matches("<svg data-chart=").count(), 5);
        assert_eq!(html.matches("class=\"bar\" data-series=\"succeeded\"").count(), 2);
        assert_eq!(html.matches("class=\"bar\" data-series=\"failed\"").count(), 1);
        // p50 has a gap in the middle minute: two separate lines.
        assert_eq!(html.matches("class=\"line\" data-series=\"p50\"").count(), 2);
        assert!(html.contains("latest: succeeded 5 jobs, failed 0 jobs"), "{html}");
        assert!(!html.contains("NaN") && !html.contains("inf"));
    }

    #[test]
    fn the_axis_top_is_a_round_number_above_the_largest_figure() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(3.2), 5.0);
        assert_eq!(nice_max(17.0), 20.0);
        assert_eq!(nice_max(100.0), 100.0);
        assert_eq!(nice_max(0.03), 0.05);
    }
}
