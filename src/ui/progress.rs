//! Progress of long waits: a live line per phase and per unit on a terminal (indicatif),
//! plain timestamped log lines otherwise (CI logs, pipes). Always on stderr, so stdout stays
//! clean for `-o json`.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub struct Progress {
    live: Option<MultiProgress>,
    bars: HashMap<String, ProgressBar>,
    last_text: HashMap<String, String>,
    started: Instant,
}

impl Progress {
    /// Live lines when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Self {
        let live =
            std::io::stderr().is_terminal().then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { live, bars: HashMap::new(), last_text: HashMap::new(), started: Instant::now() }
    }

    fn stamp(&self) -> String {
        format!("[{:>6.1}s]", self.started.elapsed().as_secs_f64())
    }

    /// A one-off message.
    pub fn note(&self, message: &str) {
        let message = &*crate::redact::scrub(message);
        match &self.live {
            Some(live) => {
                let _ = live.println(message);
            }
            None => eprintln!("{} {message}", self.stamp()),
        }
    }

    /// A line that updates in place (keyed), e.g. one per phase or unit.
    pub fn line(&mut self, key: &str, message: &str) {
        let message = &*crate::redact::scrub(message);
        if self.last_text.get(key).map(String::as_str) == Some(message) {
            return;
        }
        self.last_text.insert(key.to_string(), message.to_string());
        match &self.live {
            Some(live) => {
                let bar = self.bars.entry(key.to_string()).or_insert_with(|| {
                    let bar = live.add(ProgressBar::new_spinner());
                    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"));
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
                bar.set_message(message.to_string());
            }
            None => eprintln!("{} {message}", self.stamp()),
        }
    }

    /// Ends a keyed line with a final message.
    pub fn finish(&mut self, key: &str, message: &str) {
        let message = &*crate::redact::scrub(message);
        match self.bars.remove(key) {
            Some(bar) => bar.finish_with_message(message.to_string()),
            None => {
                if self.live.is_none() {
                    eprintln!("{} {message}", self.stamp());
                } else {
                    self.note(message);
                }
            }
        }
        self.last_text.remove(key);
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}
