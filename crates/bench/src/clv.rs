//! `trailmap-bench clv`: the BG/NBD fit on CDNOW in this process and lifetimes' BetaGeoFitter on
//! the same file (bench/clv_lifetimes.py) in the same run, and a fit on synthetic customers drawn
//! from a known BG/NBD process, so the speed claims are measured side by side; and the whole
//! `trailmap clv` process on 100,000 synthetic customers' orders against lifetimes doing the same
//! from the same CSV, and on 1,000,000 customers alone (issue 19).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use super::{Machine, machine, machine_lines, median, write_results};
use anyhow::{Context, bail};
use serde::Serialize;
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use trailmap_clv::{BgNbd, CustomerSummary, TimeUnit};
use trailmap_model::CustomerId;

const CDNOW: &str = "crates/clv/tests/data/cdnow_customers_summary.csv";

/// Customers from a BG/NBD process with the CDNOW parameters, observed for 1 to 52 weeks and
/// counted in whole days, as real transactions would be.
fn synthetic(customers: u64, seed: u64) -> anyhow::Result<Vec<CustomerSummary>> {
    let (r, alpha, a, b) = (0.243, 4.414, 0.793, 2.426);
    let (gamma_r, gamma_a, gamma_b) = (Gamma::new(r, 1.0)?, Gamma::new(a, 1.0)?, Gamma::new(b, 1.0)?);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Uniform in (0, 1], so its logarithm is finite.
    let unit = |rng: &mut ChaCha8Rng| 1.0 - rng.random::<f64>();
    Ok((0..customers)
        .map(|i| {
            let rate = gamma_r.sample(&mut rng) / alpha;
            let (ga, gb) = (gamma_a.sample(&mut rng), gamma_b.sample(&mut rng));
            let drop = ga / (ga + gb);
            let age_days = 7 + rng.random_range(0..358i64);
            let (mut t, mut x, mut last) = (0.0, 0i64, 0i64);
            loop {
                t += -unit(&mut rng).ln() / rate;
                let day = (t * 7.0).floor() as i64;
                if day > age_days {
                    break;
                }
                if day > last {
                    x += 1;
                    last = day;
                }
                if rng.random::<f64>() < drop {
                    break;
                }
            }
            CustomerSummary {
                customer: CustomerId(i as i64),
                frequency: x as f64,
                recency: last as f64 / 7.0,
                age: age_days as f64 / 7.0,
                monetary: 0.0,
            }
        })
        .collect())
}

/// A transactions CSV (customer_id, order_id, time, total) of `customers` customers from the same
/// BG/NBD process, one order per purchase day, each order's value drawn from the Gamma-Gamma
/// process with CDNOW's spend parameters (p 6.25, q 3.74, gamma 15.44); the observation ends on
/// 2026-06-30. Returns the orders written.
fn synthetic_orders(path: &Path, customers: u64, seed: u64) -> anyhow::Result<u64> {
    use std::io::Write;
    let (r, alpha, a, b) = (0.243, 4.414, 0.793, 2.426);
    let (p, q, gamma) = (6.25, 3.74, 15.44);
    let (gamma_r, gamma_a, gamma_b) = (Gamma::new(r, 1.0)?, Gamma::new(a, 1.0)?, Gamma::new(b, 1.0)?);
    let gamma_nu = Gamma::new(q, 1.0 / gamma)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let unit = |rng: &mut ChaCha8Rng| 1.0 - rng.random::<f64>();
    let end = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).context("date")?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "customer_id,order_id,time,total")?;
    let mut orders = 0u64;
    for i in 0..customers {
        let rate = gamma_r.sample(&mut rng) / alpha;
        let (ga, gb) = (gamma_a.sample(&mut rng), gamma_b.sample(&mut rng));
        let drop = ga / (ga + gb);
        let nu = gamma_nu.sample(&mut rng);
        let spend = Gamma::new(p, 1.0 / nu)?;
        let age_days = 7 + rng.random_range(0..358i64);
        let first = end - chrono::Duration::days(age_days);
        let mut days = vec![0i64];
        let mut t = 0.0;
        loop {
            t += -unit(&mut rng).ln() / rate;
            let day = (t * 7.0).floor() as i64;
            if day > age_days {
                break;
            }
            if day > *days.last().unwrap_or(&0) {
                days.push(day);
            }
            if rng.random::<f64>() < drop {
                break;
            }
        }
        for day in days {
            let drawn: f64 = spend.sample(&mut rng);
            let value = drawn.max(0.01);
            let minute = rng.random_range(8 * 60..20 * 60);
            let date = first + chrono::Duration::days(day);
            writeln!(out, "c{i},o{orders},{date}T{:02}:{:02}:00Z,{value:.2}", minute / 60, minute % 60)?;
            orders += 1;
        }
    }
    out.flush()?;
    Ok(orders)
}

/// Whole processes, timed from outside: `trailmap clv --model bgnbd --format json` on a store
/// holding the orders (imported once, untimed), writing every customer's values to a file, and
/// `bench/clv_lifetimes_whole.py` doing the same from the CSV in Python (read, summarise, fit
/// BG/NBD and Gamma-Gamma, predict every customer, write them to a file); and the command as the
/// issue names it, `trailmap clv --model bgnbd` (the groups' table, every customer computed),
/// in the same runs.
#[derive(Debug, Serialize)]
struct WholeProcess {
    customers: u64,
    orders: u64,
    runs: u32,
    /// `trailmap clv --model bgnbd`, its table read through a pipe.
    command_seconds: Vec<f64>,
    command_median_seconds: f64,
    /// `trailmap clv --model bgnbd --format json` into a file.
    trailmap_seconds: Vec<f64>,
    trailmap_median_seconds: f64,
    /// The size of that file.
    report_bytes: u64,
    trailmap_purchase_parameters: serde_json::Value,
    /// Empty when lifetimes was not run at this size (then the median and speedup are 0).
    lifetimes_seconds: Vec<f64>,
    lifetimes_median_seconds: f64,
    lifetimes_parameters: serde_json::Value,
    speedup: f64,
}

fn whole_process(scratch: &Path, customers: u64, runs: u32, with_lifetimes: bool) -> anyhow::Result<WholeProcess> {
    let csv = scratch.join(format!("clv-orders-{customers}.csv"));
    let db = scratch.join(format!("clv-{customers}.sqlite"));
    let trailmap = std::env::current_exe()?.with_file_name("trailmap");
    if !trailmap.exists() {
        bail!("{} is missing: build it with cargo build --release -p trailmap", trailmap.display());
    }
    // The same seed writes the same file, so a store imported from it before is reused.
    let orders = synthetic_orders(&csv, customers, 11)?;
    if !db.exists() {
        eprintln!("importing {orders} orders of {customers} customers into {} ...", db.display());
        let import = Command::new(&trailmap).arg("--db").arg(&db).args(["import", "orders"]).arg(&csv).output()?;
        if !import.status.success() {
            let _ = std::fs::remove_file(&db);
            bail!("trailmap import orders failed: {}", String::from_utf8_lossy(&import.stderr));
        }
    }
    let (mut command_seconds, mut trailmap_seconds) = (Vec::new(), Vec::new());
    let report_path = scratch.join(format!("clv-report-{customers}.json"));
    for _ in 0..runs {
        let started = Instant::now();
        let output = Command::new(&trailmap).arg("--db").arg(&db).args(["clv", "--model", "bgnbd"]).output()?;
        command_seconds.push(started.elapsed().as_secs_f64());
        if !output.status.success() {
            bail!("trailmap clv failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        // Every customer's values written to a file, as lifetimes writes its own: the report is
        // not read by this process while it is written (through a pipe it would compete for the
        // same two cores).
        let file = std::fs::File::create(&report_path)?;
        let started = Instant::now();
        let output = Command::new(&trailmap)
            .arg("--db")
            .arg(&db)
            .args(["clv", "--model", "bgnbd", "--format", "json"])
            .stdout(file)
            .stderr(std::process::Stdio::piped())
            .output()?;
        trailmap_seconds.push(started.elapsed().as_secs_f64());
        if !output.status.success() {
            bail!("trailmap clv --format json failed: {}", String::from_utf8_lossy(&output.stderr));
        }
    }
    let report = std::fs::read(&report_path)?;
    let report_bytes = report.len() as u64;
    let report: serde_json::Value = serde_json::from_slice(&report).context("trailmap clv's JSON")?;
    std::fs::remove_file(&report_path)?;
    let values = scratch.join(format!("clv-lifetimes-{customers}.csv"));
    let mut lifetimes_seconds = Vec::new();
    let mut lifetimes = serde_json::Value::Null;
    for _ in 0..if with_lifetimes { runs } else { 0 } {
        let started = Instant::now();
        let output = Command::new("python3").arg("bench/clv_lifetimes_whole.py").arg(&csv).arg(&values).output()?;
        lifetimes_seconds.push(started.elapsed().as_secs_f64());
        if !output.status.success() {
            bail!("bench/clv_lifetimes_whole.py failed (is lifetimes installed? pip install lifetimes): {}", String::from_utf8_lossy(&output.stderr));
        }
        lifetimes = serde_json::from_slice(&output.stdout)?;
    }
    let trailmap_median_seconds = median(trailmap_seconds.clone());
    let lifetimes_median_seconds = if lifetimes_seconds.is_empty() { 0.0 } else { median(lifetimes_seconds.clone()) };
    Ok(WholeProcess {
        customers,
        orders,
        runs,
        command_median_seconds: median(command_seconds.clone()),
        command_seconds,
        trailmap_seconds,
        trailmap_median_seconds,
        report_bytes,
        trailmap_purchase_parameters: report["purchase_parameters"].clone(),
        lifetimes_seconds,
        lifetimes_median_seconds,
        lifetimes_parameters: lifetimes["params"].clone(),
        speedup: lifetimes_median_seconds / trailmap_median_seconds,
    })
}

fn read_cdnow(path: &Path) -> anyhow::Result<Vec<CustomerSummary>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            if f.len() < 4 {
                bail!("{}: bad line {line:?}", path.display());
            }
            Ok(CustomerSummary {
                customer: CustomerId(f[0].parse()?),
                frequency: f[1].parse()?,
                recency: f[2].parse()?,
                age: f[3].parse()?,
                monetary: 0.0,
            })
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct ClvResults {
    machine: Machine,
    cdnow_customers: usize,
    trailmap_runs: Vec<f64>,
    trailmap_median_seconds: f64,
    trailmap_params: [f64; 4],
    trailmap_log_likelihood: f64,
    lifetimes: serde_json::Value,
    lifetimes_median_seconds: f64,
    speedup: f64,
    synthetic_customers: u64,
    synthetic_distinct_rows: usize,
    synthetic_fit_seconds: f64,
    synthetic_params: [f64; 4],
    whole_process: WholeProcess,
    /// `trailmap clv` alone on `--large-customers` customers (lifetimes takes minutes there).
    whole_process_large: Option<WholeProcess>,
    load_average_before: String,
    load_average_after: String,
}

pub fn bench_clv(out: &Path, scratch: &Path, runs: u32, customers: u64, whole_customers: u64, large_customers: u64) -> anyhow::Result<()> {
    let load_average_before = crate::live::load_average();
    let data = read_cdnow(Path::new(CDNOW))?;
    let mut trailmap_runs = Vec::new();
    let mut fitted = None;
    for _ in 0..runs {
        let started = Instant::now();
        let m = BgNbd::fit(&data, TimeUnit::Week)?;
        trailmap_runs.push(started.elapsed().as_secs_f64());
        fitted = Some(m);
    }
    let m = fitted.context("no run")?;
    eprintln!("trailmap: {:.4} s median", median(trailmap_runs.clone()));
    let output = Command::new("python3").arg("bench/clv_lifetimes.py").arg(CDNOW).arg(runs.to_string()).output()?;
    if !output.status.success() {
        bail!("bench/clv_lifetimes.py failed (is lifetimes installed? pip install lifetimes): {}", String::from_utf8_lossy(&output.stderr));
    }
    let lifetimes: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let lifetimes_runs: Vec<f64> =
        lifetimes["seconds"].as_array().context("no seconds from lifetimes")?.iter().filter_map(|v| v.as_f64()).collect();
    let lifetimes_median = median(lifetimes_runs);
    let trailmap_median = median(trailmap_runs.clone());
    eprintln!("generating {customers} synthetic customers ...");
    let synthetic = synthetic(customers, 7)?;
    let distinct = {
        let mut rows: Vec<(u64, u64, u64)> =
            synthetic.iter().map(|c| (c.frequency.to_bits(), c.recency.to_bits(), c.age.to_bits())).collect();
        rows.sort_unstable();
        rows.dedup();
        rows.len()
    };
    let started = Instant::now();
    let s = BgNbd::fit(&synthetic, TimeUnit::Week)?;
    let synthetic_seconds = started.elapsed().as_secs_f64();
    let whole = whole_process(scratch, whole_customers, runs, true)?;
    let large = if large_customers > 0 { Some(whole_process(scratch, large_customers, runs, false)?) } else { None };
    let results = ClvResults {
        machine: machine(),
        cdnow_customers: data.len(),
        trailmap_runs,
        trailmap_median_seconds: trailmap_median,
        trailmap_params: [m.r, m.alpha, m.a, m.b],
        trailmap_log_likelihood: m.fit.log_likelihood,
        lifetimes,
        lifetimes_median_seconds: lifetimes_median,
        speedup: lifetimes_median / trailmap_median,
        synthetic_customers: customers,
        synthetic_distinct_rows: distinct,
        synthetic_fit_seconds: synthetic_seconds,
        synthetic_params: [s.r, s.alpha, s.a, s.b],
        whole_process: whole,
        whole_process_large: large,
        load_average_before,
        load_average_after: crate::live::load_average(),
    };
    let w = &results.whole_process;
    let parameter = |v: &serde_json::Value, k: &str| v[k].as_f64().map_or("?".to_string(), |x| format!("{x:.4}"));
    let markdown = format!(
        "# CLV benchmark: BG/NBD fit, Trailmap against lifetimes\n\n{}\n\
         `trailmap-bench clv --runs {runs} --customers {customers}`: the BG/NBD model fitted by maximum \
         likelihood on the CDNOW summary ({} customers, weeks) in this process, and lifetimes' \
         `BetaGeoFitter().fit` on the same file by `bench/clv_lifetimes.py` in the same run \
         (lifetimes {}, time measured inside Python around the fit only). Median of {runs} runs.\n\n\
         | fit | median seconds | r | alpha | a | b |\n|---|---|---|---|---|---|\n\
         | Trailmap | **{:.4}** | {:.4} | {:.4} | {:.4} | {:.4} |\n\
         | lifetimes | {:.4} | {} | {} | {} | {} |\n\n\
         Trailmap is **{:.1}x** faster (target: 20x). Log-likelihood {:.1} (published: -9582.4).\n\n\
         Synthetic: {customers} customers drawn from a BG/NBD process with the CDNOW parameters, \
         observed 1 to 52 weeks, counted in whole days ({} distinct (x, t_x, T) rows; identical rows \
         are merged with weights, as lifetimes also does): fit in **{:.2} s** (target: under 2 s), \
         estimates r {:.3}, alpha {:.3}, a {:.3}, b {:.3}.\n\n\
         Whole process, {} customers ({} orders from the same process, one per purchase day, values \
         from a Gamma-Gamma process with CDNOW's spend parameters; `--whole-customers`): \
         `trailmap clv --model bgnbd --format json` on a store holding the orders (imported once, \
         not timed), writing every customer's values to a file ({:.1} MB), against \
         `bench/clv_lifetimes_whole.py` doing the same from the CSV in Python (read, summarise by \
         day in weeks, fit BG/NBD and Gamma-Gamma, predict every customer's purchases, P(alive) and \
         52-week discounted value, write them to a file), each a fresh process timed from outside, \
         median of {}; and the command as the issue names it, `trailmap clv --model bgnbd` (every \
         customer computed, the groups' table printed), in the same runs.\n\n\
         | whole process | median seconds | r | alpha | a | b |\n|---|---|---|---|---|---|\n\
         | `trailmap clv --model bgnbd` | **{:.3}** | | | | |\n\
         | `trailmap clv --model bgnbd --format json` | **{:.3}** | {} | {} | {} | {} |\n\
         | lifetimes | {:.3} | {} | {} | {} | {} |\n\n\
         Every customer's values: Trailmap is **{:.1}x** faster than lifetimes (targets: at most \
         0.5 s, at least 5x lifetimes). Load average {} before, {} after.\n",
        machine_lines(&results.machine),
        data.len(),
        results.lifetimes["lifetimes"].as_str().unwrap_or("?"),
        trailmap_median,
        m.r,
        m.alpha,
        m.a,
        m.b,
        lifetimes_median,
        fmt4(&results.lifetimes["params"]["r"]),
        fmt4(&results.lifetimes["params"]["alpha"]),
        fmt4(&results.lifetimes["params"]["a"]),
        fmt4(&results.lifetimes["params"]["b"]),
        results.speedup,
        m.fit.log_likelihood,
        distinct,
        synthetic_seconds,
        s.r,
        s.alpha,
        s.a,
        s.b,
        w.customers,
        w.orders,
        w.report_bytes as f64 / 1e6,
        w.runs,
        w.command_median_seconds,
        w.trailmap_median_seconds,
        parameter(&w.trailmap_purchase_parameters, "r"),
        parameter(&w.trailmap_purchase_parameters, "alpha"),
        parameter(&w.trailmap_purchase_parameters, "a"),
        parameter(&w.trailmap_purchase_parameters, "b"),
        w.lifetimes_median_seconds,
        parameter(&w.lifetimes_parameters, "r"),
        parameter(&w.lifetimes_parameters, "alpha"),
        parameter(&w.lifetimes_parameters, "a"),
        parameter(&w.lifetimes_parameters, "b"),
        w.speedup,
        results.load_average_before,
        results.load_average_after,
    );
    let mut markdown = markdown;
    if let Some(l) = &results.whole_process_large {
        markdown.push_str(&format!(
            "\nWhole process, {} customers ({} orders, the same process; `--large-customers`), median of {} fresh processes \
             (target: at most 3 s): `trailmap clv --model bgnbd` **{:.3} s**; with every customer's values written to a file \
             (`--format json`, {:.1} MB) **{:.3} s**; r {}, alpha {}, a {}, b {}. lifetimes is not run at this size \
             (minutes per run).\n",
            l.customers,
            l.orders,
            l.runs,
            l.command_median_seconds,
            l.report_bytes as f64 / 1e6,
            l.trailmap_median_seconds,
            parameter(&l.trailmap_purchase_parameters, "r"),
            parameter(&l.trailmap_purchase_parameters, "alpha"),
            parameter(&l.trailmap_purchase_parameters, "a"),
            parameter(&l.trailmap_purchase_parameters, "b"),
        ));
    }
    print!("{markdown}");
    write_results(out, "clv", &markdown, &results)
}

fn fmt4(v: &serde_json::Value) -> String {
    v.as_f64().map_or("?".into(), |x| format!("{x:.4}"))
}
