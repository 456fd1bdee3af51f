//! Running imports on the status page: a progress bar when an earlier full import of the
//! same scope gave a count (`queue/progress.rs`), a counter otherwise.

use std::fmt::Write as _;

use connector_actors::queue::ImportReport;

use super::html::esc;

/// The "Imports" section (`id="imports"`; one `tr.import` per running import, its bar a
/// `<progress>` element whose `value` is the percent).
pub fn section(imports: &[ImportReport]) -> String {
    let mut h = String::from(
        "<section><h2>Imports</h2><table id=\"imports\"><tr><th>Job</th><th>Progress</th><th>Records</th>\
         <th>Records/s</th><th>Batch in flight</th><th>Time left</th></tr>",
    );
    if imports.is_empty() {
        h.push_str("<tr><td colspan=\"6\">no import running</td></tr>");
    }
    for i in imports {
        let bar = match (i.percent, i.expected_total) {
            (Some(pc), Some(total)) => format!(
                "<progress class=\"bar\" max=\"100\" value=\"{pc:.1}\" title=\"{pc:.0}% of ~{total}\"></progress> \
                 <span class=\"percent\">{pc:.0}%</span> of ~<span class=\"expected\">{total}</span>"
            ),
            _ => "<span class=\"counter\">no earlier full import of this scope: counting</span>".to_owned(),
        };
        let _ = write!(
            h,
            "<tr class=\"import\" data-id=\"{0}\"><td>{0}</td><td>{1}</td><td class=\"records\">{2}</td>\
             <td class=\"rate\">{3:.0}</td><td class=\"batch\">{4}</td><td class=\"eta\">{5}</td></tr>",
            esc(&i.job_id),
            bar,
            i.records,
            i.records_per_s,
            i.batch_in_flight.map_or_else(|| "—".to_owned(), |b| b.to_string()),
            i.eta_s.map_or_else(|| "—".to_owned(), |s| format!("~{s} s")),
        );
    }
    h.push_str("</table></section>");
    h
}
