//! The server's delivery task: digests and alerts planned when they fall due, e-mails and webhook
//! calls sent, failures retried with a doubling wait, all off the request path. Planning (which
//! builds reports and judges alert rules) runs on a read connection, queuing and recording
//! attempts on the writer (each a small transaction), and the sending itself on a blocking
//! thread, so a slow or dead SMTP server never holds the writer or a request. "Send now" in the
//! app or the API queues a delivery and wakes the task ([`DeliveryHub::wake`]).
//!
//! [`deliver_once`] is one pass at a given instant: the task calls it with the clock, tests call
//! it with theirs.

use crate::auth;
use crate::error::ApiError;
use crate::state::ServerState;
use std::sync::Arc;
use std::time::Duration;
use trailmap_app::delivery::{self, DeliverySettings};
use trailmap_app::portfolio::DeliveryRun;
use trailmap_model::Timestamp;

/// How often the task plans what is due (digests, alert rules).
pub const PLAN_EVERY: Duration = Duration::from_secs(600);

/// How often the task looks for deliveries due (retries), besides being woken.
pub const SEND_EVERY: Duration = Duration::from_secs(30);

/// What the delivery task shares with the handlers: its settings and its wake-up call.
#[derive(Debug, Default)]
pub struct DeliveryHub {
    pub settings: DeliverySettings,
    wake: tokio::sync::Notify,
}

impl DeliveryHub {
    pub fn new(settings: DeliverySettings) -> DeliveryHub {
        DeliveryHub { settings, wake: tokio::sync::Notify::new() }
    }

    /// Asks the task to send what is due now (after "send now").
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// One pass at `now`: with `plan`, queue what fell due (digests once per period, alerts once per
/// rule and period); then make one attempt at every delivery due and record it.
pub async fn deliver_once(state: &ServerState, now: Timestamp, plan: bool) -> Result<DeliveryRun, ApiError> {
    let mut run = DeliveryRun::default();
    if plan {
        let planned = state.try_read(move |app| app.plan_deliveries(now)).await?;
        if !planned.digests.is_empty() || !planned.firings.is_empty() {
            let (queued, fired) = state.try_write(move |app| app.queue_plan(&planned, now)).await?;
            run.queued = queued.iter().map(|d| d.id).collect();
            run.fired = fired.iter().map(|f| f.id).collect();
        }
    }
    let due = state.try_read(move |app| app.due_deliveries(now)).await?;
    for one in due {
        let hub = state.delivery.clone();
        let (outcome, one) = tokio::task::spawn_blocking(move || (delivery::send(&one, &hub.settings), one))
            .await
            .map_err(|e| ApiError::internal(format!("a delivery failed to run: {e}")))?;
        if let Err(reason) = &outcome {
            tracing::warn!(delivery = one.id, channel = %one.channel, attempt = one.attempts + 1, reason = %reason, "a delivery failed; it is retried with backoff");
        }
        let recorded = state.try_write(move |app| app.record_attempt(&one, outcome, now)).await?;
        run.attempted.push(recorded.id);
    }
    Ok(run)
}

/// Runs until the writer stops: plans every [`PLAN_EVERY`], sends every [`SEND_EVERY`] and when woken.
pub async fn run(state: ServerState) {
    let hub: Arc<DeliveryHub> = state.delivery.clone();
    let mut plan = tokio::time::interval(PLAN_EVERY);
    plan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut send = tokio::time::interval(SEND_EVERY);
    send.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let planning = tokio::select! {
            _ = plan.tick() => true,
            _ = send.tick() => false,
            () = hub.wake.notified() => false,
        };
        match deliver_once(&state, auth::now(), planning).await {
            Ok(_) => {}
            Err(e) if e.code == "unavailable" => return,
            Err(e) => tracing::error!(code = e.code, message = %e.message, "the delivery task failed; it tries again at its next turn"),
        }
    }
}
