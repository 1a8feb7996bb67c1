//! Sankey diagrams of journeys: nodes in columns by depth, stacked by value with padding, and
//! links drawn as cubic Bézier bands whose width is their value.

use crate::format::{ValueFormat, clean};
use crate::style::{self, PAD, SMALL_SIZE};
use crate::svg::{Anchor, Doc, Label, PathData, Svg};
use crate::Size;
use std::collections::HashMap;

/// A node: a step at a depth of the journey.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SankeyNode {
    /// Unique among the nodes; links name nodes by it.
    pub id: String,
    pub label: String,
    /// The column, 0 for the first step.
    pub column: u32,
    /// Customers at this node. A node is drawn at least as tall as its links need.
    pub value: f64,
    pub href: Option<String>,
}

/// A flow from one node to a node in a later column.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SankeyLink {
    pub from: String,
    pub to: String,
    pub value: f64,
    pub href: Option<String>,
}

/// A Sankey diagram. Nodes are stacked in the order given within each column. Links that name
/// an unknown node, do not go to a later column, or have no positive value are not drawn.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sankey {
    pub title: String,
    pub format: ValueFormat,
    pub nodes: Vec<SankeyNode>,
    pub links: Vec<SankeyLink>,
    /// `None`: 800 × 420.
    pub size: Option<Size>,
}

const NODE_WIDTH: f64 = 12.0;
const NODE_PAD: f64 = 10.0;
/// The least distance between two labels' baselines in a column: a line of small text.
const LABEL_LINE: f64 = SMALL_SIZE + 2.0;

/// Baselines for a column's labels, wanted at `wanted` (top to bottom), at least `line` apart and
/// within `top..=bottom`: each label as near its wish as its neighbours allow. When the column
/// holds more labels than lines, the labels of the lightest nodes (by `weights`) are left out
/// (`None`) until the rest fit.
pub(crate) fn spread_labels(wanted: &[f64], weights: &[f64], line: f64, top: f64, bottom: f64) -> Vec<Option<f64>> {
    let lines = (((bottom - top) / line).floor() as usize + 1).max(1);
    let mut kept: Vec<usize> = (0..wanted.len()).collect();
    if kept.len() > lines {
        kept.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
        kept.truncate(lines);
        kept.sort_unstable();
    }
    let mut ys: Vec<f64> = kept.iter().map(|&k| wanted[k].clamp(top, bottom)).collect();
    // Down from the top, then up from the bottom: after both, neighbours are a line apart, and
    // they fit between top and bottom since there are at most `lines` of them.
    for j in 1..ys.len() {
        ys[j] = ys[j].max(ys[j - 1] + line);
    }
    if let Some(last) = ys.last_mut() {
        *last = last.min(bottom);
    }
    for j in (0..ys.len().saturating_sub(1)).rev() {
        ys[j] = ys[j].min(ys[j + 1] - line);
    }
    let mut out = vec![None; wanted.len()];
    for (j, &k) in kept.iter().enumerate() {
        out[k] = Some(ys[j]);
    }
    out
}

struct Placed {
    x: f64,
    y: f64,
    height: f64,
    /// Next free offset for outgoing and incoming bands.
    out_used: f64,
    in_used: f64,
}

impl Sankey {
    pub fn render(&self) -> Svg {
        let size = self.size.unwrap_or(Size { width: 800.0, height: 420.0 });
        let mut doc = Doc::new(size.width, size.height, &self.title);
        doc.heading(&self.title);
        // Later duplicates of an id are ignored: the first node with an id wins.
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            index.entry(node.id.as_str()).or_insert(i);
        }
        let links: Vec<(usize, usize, f64, &SankeyLink)> = self
            .links
            .iter()
            .filter_map(|l| {
                let (&a, &b) = (index.get(l.from.as_str())?, index.get(l.to.as_str())?);
                let v = clean(l.value).filter(|v| *v > 0.0)?;
                (self.nodes[b].column > self.nodes[a].column).then_some((a, b, v, l))
            })
            .collect();
        let mut flow_in = vec![0.0; self.nodes.len()];
        let mut flow_out = vec![0.0; self.nodes.len()];
        for (a, b, v, _) in &links {
            flow_out[*a] += v;
            flow_in[*b] += v;
        }
        let weight: Vec<f64> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| clean(n.value).unwrap_or(0.0).max(0.0).max(flow_in[i]).max(flow_out[i]))
            .collect();
        let is_drawn = |i: usize| weight[i] > 0.0 && index.get(self.nodes[i].id.as_str()) == Some(&i);
        let drawn: Vec<usize> = (0..self.nodes.len()).filter(|i| is_drawn(*i)).collect();
        if drawn.is_empty() {
            doc.no_data();
            return doc.finish();
        }
        let max_column = drawn.iter().map(|i| self.nodes[*i].column).max().unwrap_or(0);
        let mut columns: Vec<Vec<usize>> = vec![Vec::new(); max_column as usize + 1];
        for &i in &drawn {
            columns[self.nodes[i].column as usize].push(i);
        }
        let columns: Vec<Vec<usize>> = columns.into_iter().filter(|c| !c.is_empty()).collect();
        let (top, bottom) = (PAD + 34.0, doc.height - PAD);
        let (left, right) = (PAD, doc.width - PAD);
        let available = (bottom - top).max(1.0);
        // One scale for all columns, set by the fullest, so a band keeps its width end to end.
        let scale = columns
            .iter()
            .map(|c| {
                let sum: f64 = c.iter().map(|i| weight[*i]).sum();
                let room = (available - NODE_PAD * (c.len() as f64 - 1.0)).max(available * 0.3);
                room / sum.max(f64::MIN_POSITIVE)
            })
            .fold(f64::INFINITY, f64::min);
        let step = if columns.len() > 1 { (right - left - NODE_WIDTH) / (columns.len() - 1) as f64 } else { 0.0 };
        let mut placed: HashMap<usize, Placed> = HashMap::new();
        for (c, column) in columns.iter().enumerate() {
            let x = if columns.len() > 1 { left + c as f64 * step } else { (left + right - NODE_WIDTH) / 2.0 };
            let mut y = top;
            for &i in column {
                let height = (weight[i] * scale).max(1.0);
                placed.insert(i, Placed { x, y, height, out_used: 0.0, in_used: 0.0 });
                y += height + NODE_PAD;
            }
        }
        // Bands leave and enter nodes in the vertical order of the other end, so they cross less.
        let mut order: Vec<usize> = (0..links.len()).collect();
        let y_of = |i: usize| placed.get(&i).map_or(0.0, |p| p.y);
        order.sort_by(|&p, &q| {
            let (a, b) = (&links[p], &links[q]);
            y_of(a.0).total_cmp(&y_of(b.0)).then(y_of(a.1).total_cmp(&y_of(b.1)))
        });
        let mut bands = Vec::new();
        for &k in &order {
            let (a, b, v, _) = links[k];
            let w = v * scale;
            let (Some(pa), Some(pb)) = (placed.get(&a), placed.get(&b)) else { continue };
            let (x0, x1) = (pa.x + NODE_WIDTH, pb.x);
            let (y0, y1) = (pa.y + pa.out_used, pb.y + pb.in_used);
            bands.push((k, x0, y0, x1, y1, w));
            if let Some(p) = placed.get_mut(&a) {
                p.out_used += w;
            }
            if let Some(p) = placed.get_mut(&b) {
                p.in_used += w;
            }
        }
        // Wide bands first, so the narrow ones stay visible where bands cross.
        bands.sort_by(|p, q| q.5.total_cmp(&p.5).then(p.0.cmp(&q.0)));
        for (k, x0, y0, x1, y1, w) in bands {
            let (a, b, v, link) = links[k];
            let xm = (x0 + x1) / 2.0;
            let mut d = PathData::default();
            d.move_to(x0, y0)
                .cubic_to((xm, y0), (xm, y1), (x1, y1))
                .line_to(x1, y1 + w)
                .cubic_to((xm, y1 + w), (xm, y0 + w), (x0, y0 + w))
                .close();
            let tip = format!("{} → {}: {}", self.nodes[a].label, self.nodes[b].label, self.format.format(v));
            let open = doc.open_link(link.href.as_deref(), &tip);
            let color = style::color(self.nodes[a].column as usize);
            // A pale solid colour rather than opacity: svg2pdf writes one transparency state per
            // translucent shape in hash order, which would make PDF exports differ run to run.
            doc.empty("path", &[("d", d.into_string().into()), ("fill", style::tint(color, 0.35).into()), ("stroke", style::BACKGROUND.into()), ("stroke-width", 0.5.into())]);
            doc.close_link(open);
        }
        let last_x = placed.values().map(|p| p.x).fold(f64::NEG_INFINITY, f64::max);
        let label_room = if columns.len() > 1 { step - NODE_WIDTH - 12.0 } else { (right - left) / 2.0 - NODE_WIDTH };
        // The last column's labels go left of its nodes, into the gap where the column before
        // writes its labels rightwards: with two or more columns, those two share the gap.
        let shared_room = if columns.len() > 1 { label_room / 2.0 - 4.0 } else { label_room };
        let room_of = |c: usize| if columns.len() > 1 && c + 2 >= columns.len() { shared_room } else { label_room };
        // Labels of one column never overlap: each sits at its node's middle when there is room,
        // else is moved apart from its neighbours; where a column has more nodes than lines, the
        // smallest nodes go without a label (their tooltip still names them).
        let mut label_y: HashMap<usize, f64> = HashMap::new();
        for column in &columns {
            let wanted: Vec<f64> = column.iter().map(|i| placed.get(i).map_or(top, |p| p.y + p.height / 2.0 + 4.0)).collect();
            let weights: Vec<f64> = column.iter().map(|i| weight[*i]).collect();
            for (k, y) in spread_labels(&wanted, &weights, LABEL_LINE, top + SMALL_SIZE, bottom).into_iter().enumerate() {
                if let Some(y) = y {
                    label_y.insert(column[k], y);
                }
            }
        }
        for (c, column) in columns.iter().enumerate() {
            for &i in column {
                let Some(p) = placed.get(&i) else { continue };
                let node = &self.nodes[i];
                let text = format!("{} ({})", node.label, self.format.format(weight[i]));
                let open = doc.open_link(node.href.as_deref(), &text);
                let color = style::color(node.column as usize);
                doc.rect(p.x, p.y, NODE_WIDTH, p.height, &[("fill", color.into())]);
                if let Some(&cy) = label_y.get(&i) {
                    // Labels go right of nodes, except in the last column where they go left.
                    let label = if columns.len() > 1 && p.x >= last_x {
                        Label::new(p.x - 6.0, cy, &text).anchor(Anchor::End)
                    } else {
                        Label::new(p.x + NODE_WIDTH + 6.0, cy, &text)
                    };
                    doc.label(label.size(SMALL_SIZE).max_width(room_of(c).max(30.0)));
                }
                doc.close_link(open);
            }
        }
        doc.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::spread_labels;

    #[test]
    fn labels_keep_their_place_when_there_is_room_and_move_apart_when_not() {
        assert_eq!(spread_labels(&[20.0, 60.0, 100.0], &[1.0, 1.0, 1.0], 13.0, 10.0, 200.0), vec![Some(20.0), Some(60.0), Some(100.0)]);
        // Three tiny nodes close together: pushed down a line apart from the first.
        assert_eq!(spread_labels(&[50.0, 52.0, 54.0], &[5.0, 1.0, 1.0], 13.0, 10.0, 200.0), vec![Some(50.0), Some(63.0), Some(76.0)]);
        // At the bottom: pushed up instead, still inside.
        assert_eq!(spread_labels(&[198.0, 199.0, 200.0], &[1.0, 1.0, 1.0], 13.0, 10.0, 200.0), vec![Some(174.0), Some(187.0), Some(200.0)]);
        // Room for three lines only: the two lightest of five lose their label.
        let out = spread_labels(&[10.0, 11.0, 12.0, 13.0, 14.0], &[9.0, 1.0, 8.0, 2.0, 7.0], 13.0, 10.0, 36.0);
        assert_eq!(out, vec![Some(10.0), None, Some(23.0), None, Some(36.0)]);
    }
}
