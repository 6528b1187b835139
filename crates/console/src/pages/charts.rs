//! The overview's charts, as inline SVG (no script, no library).

use super::*;

const PALETTE: [&str; 15] = [
    "#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d5a97", "#2e4057", "#c36f09",
    "#7d8491", "#a23b72", "#3b8ea5", "#f18f01", "#4f772d", "#6c464f", "#99a1a6",
];

/// The segments of one stacked bar, bottom up: (series, value, top y, height), the
/// tallest bar `h - 16` high.
fn stack(segs: &[(usize, usize)], h: usize, max: usize) -> Vec<(usize, usize, usize, usize)> {
    let mut y = h;
    segs.iter()
        .map(|&(k, n)| {
            let bh = n * (h - 16) / max.max(1);
            y = y.saturating_sub(bh);
            (k, n, y, bh)
        })
        .collect()
}

/// A stacked bar chart (one bar per month) in inline SVG, with its numbers in a table
/// beside it for screen readers and for copying.
fn bars(
    l: Lang,
    id: &str,
    title: &str,
    rows: &[(String, Vec<(usize, usize)>)],
    legend: &[String],
) -> Markup {
    let max = rows
        .iter()
        .map(|(_, segs)| segs.iter().map(|(_, n)| n).sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h, pad) = (640usize, 200usize, 24usize);
    let slot = (w - pad) / rows.len().max(1);
    let bar = slot.saturating_sub(4).clamp(2, 48);
    html! {
        figure class="chart" id=(id) {
            figcaption { (title) }
            @if rows.is_empty() {
                p { (l.t("chart-empty")) }
            } @else {
                svg viewBox={ "0 0 " (w) " " (h + 30) } role="img" aria-label=(title)
                    xmlns="http://www.w3.org/2000/svg" {
                    line x1=(pad) y1=(h) x2=(w) y2=(h) stroke="#888" {}
                    text x="0" y="12" font-size="11" { (max) }
                    @for (i, (label, segs)) in rows.iter().enumerate() {
                        @let x = pad + i * slot + 2;
                        @for (k, n, y, bh) in stack(segs, h, max) {
                            rect x=(x) y=(y) width=(bar) height=(bh)
                                fill=(PALETTE.get(k % PALETTE.len()).copied().unwrap_or("#888")) {
                                title { (label) ": " (legend.get(k).map_or("", String::as_str)) " — " (n) }
                            }
                        }
                        @if rows.len() <= 12 || i % (rows.len() / 12 + 1) == 0 {
                            text x=(x) y=(h + 14) font-size="10" { (label) }
                        }
                    }
                }
                ul class="legend" {
                    @for (k, name) in legend.iter().enumerate() {
                        @if rows.iter().any(|(_, segs)| segs.iter().any(|(s, _)| *s == k)) {
                            li {
                                svg width="10" height="10" aria-hidden="true" {
                                    rect width="10" height="10"
                                        fill=(PALETTE.get(k % PALETTE.len()).copied().unwrap_or("#888")) {}
                                }
                                " " (name)
                            }
                        }
                    }
                }
                details {
                    summary { (l.t("chart-numbers")) }
                    table {
                        thead { tr { th { (l.t("month")) } @for name in legend { th { (name) } } } }
                        tbody {
                            @for (label, segs) in rows {
                                tr {
                                    th scope="row" { (label) }
                                    @for k in 0..legend.len() {
                                        td { (segs.iter().find(|(s, _)| *s == k).map_or(0, |(_, n)| *n)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Per month, each count under its series' position in `keys` (the legend's order).
fn series<K: AsRef<str>>(
    per_month: &std::collections::BTreeMap<String, std::collections::BTreeMap<K, usize>>,
    keys: &[&str],
) -> Vec<(String, Vec<(usize, usize)>)> {
    per_month
        .iter()
        .map(|(m, per)| {
            let segs = per
                .iter()
                .filter_map(|(k, n)| Some((keys.iter().position(|x| *x == k.as_ref())?, *n)))
                .collect();
            (m.clone(), segs)
        })
        .collect()
}

pub(super) fn charts(l: Lang, st: &Stats) -> Markup {
    let cat_legend: Vec<String> = CATEGORY_WORDS
        .iter()
        .map(|w| l.word("category", w))
        .collect();
    let by_cat = series(&st.requests_by_month, &CATEGORY_WORDS);
    let parties = ["kz", "tm"];
    let dir_legend: Vec<String> = parties
        .iter()
        .map(|p| l.ta("chart-from", &[("party", text(l.word("party", p)))]))
        .collect();
    let by_dir = series(&st.requests_by_direction, &parties);
    let dl_legend = vec![l.t("dl-met"), l.t("dl-late")];
    let dl: Vec<(String, Vec<(usize, usize)>)> = st
        .deadline_compliance
        .iter()
        .map(|(m, (ok, late))| (m.clone(), vec![(0, *ok), (1, *late)]))
        .collect();
    let grounds: Vec<(String, usize)> = st
        .refusals
        .iter()
        .map(|(g, n)| (l.word("ground", g), *n))
        .collect();
    let gmax = grounds.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    html! {
        section class="charts" aria-labelledby="charts-h" {
            h2 id="charts-h" { (l.t("charts")) }
            (bars(l, "chart-category", &l.t("chart-by-category"), &by_cat, &cat_legend))
            (bars(l, "chart-direction", &l.t("chart-by-direction"), &by_dir, &dir_legend))
            (bars(l, "chart-deadlines", &l.t("chart-deadlines"), &dl, &dl_legend))
            figure class="chart" id="chart-refusals" {
                figcaption { (l.t("chart-refusals")) }
                @if grounds.is_empty() { p { (l.t("chart-empty")) } }
                table class="hbars" {
                    tbody {
                        @for (g, n) in &grounds {
                            tr {
                                th scope="row" { (g) }
                                td { meter min="0" max=(gmax) value=(n) {} " " (n) }
                            }
                        }
                    }
                }
            }
            figure class="chart" id="chart-flows" {
                figcaption { (l.t("chart-flows")) }
                table {
                    thead { tr { th { (l.t("direction")) } th { (l.t("a7-items")) } th { (l.t("a7-uses")) } th { (l.t("a7-onward")) } } }
                    tbody {
                        @for (dir, (items, uses, onward)) in &st.article7_flows {
                            @let (from, to) = dir.split_once('-').unwrap_or((dir.as_str(), "?"));
                            tr {
                                th scope="row" { (l.word("party", from)) " → " (l.word("party", to)) }
                                td { (items) } td { (uses) } td { (onward) }
                            }
                        }
                    }
                }
            }
        }
    }
}
