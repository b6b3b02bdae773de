//! Where a run's time went, stage by stage: what `--stats` prints.
//!
//! Each stage of the data path counts the time it spent working, waiting for its input and
//! waiting for the next stage to take its output, and how full its input queue was each time
//! it asked for a frame. A pipeline runs at the pace of its slowest stage: that stage is the one
//! that works nearly all the time, while the others wait; a stage that waits for output sits
//! before it, one that waits for input after it.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// One stage's account.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StageStats {
    pub name: &'static str,
    /// Frames the stage handled.
    pub frames: u64,
    pub working: Duration,
    /// Time blocked on an empty input queue.
    pub waiting_input: Duration,
    /// Time blocked on a full output queue.
    pub waiting_output: Duration,
    /// The stage's input queue, where it has one.
    pub queue: Option<QueueStats>,
}

/// How full a queue was when its consumer asked for the next frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueStats {
    pub capacity: usize,
    /// Frames waiting, summed over the samples.
    pub total: u64,
    pub samples: u64,
    pub max: usize,
}

impl QueueStats {
    pub fn new(capacity: usize) -> QueueStats {
        QueueStats {
            capacity,
            ..QueueStats::default()
        }
    }

    pub fn sample(&mut self, depth: usize) {
        self.total += depth as u64;
        self.samples += 1;
        self.max = self.max.max(depth);
    }

    pub fn mean(&self) -> f64 {
        self.total as f64 / self.samples.max(1) as f64
    }
}

impl StageStats {
    pub fn new(name: &'static str) -> StageStats {
        StageStats {
            name,
            ..StageStats::default()
        }
    }
}

/// A stopwatch that hands each lap to one of a stage's three clocks.
pub struct Laps {
    last: Instant,
}

impl Laps {
    pub fn start() -> Laps {
        Laps {
            last: Instant::now(),
        }
    }

    /// The time since the previous lap.
    pub fn lap(&mut self) -> Duration {
        let now = Instant::now();
        let lap = now - self.last;
        self.last = now;
        lap
    }
}

/// Keeps a stage's account while it runs: each call books the time since the previous one.
pub struct StageClock {
    stats: StageStats,
    queue: Option<QueueStats>,
    laps: Laps,
}

impl StageClock {
    /// A stage without an input queue (the first).
    pub fn new(name: &'static str) -> StageClock {
        StageClock {
            stats: StageStats::new(name),
            queue: None,
            laps: Laps::start(),
        }
    }

    /// A stage that takes its frames from a queue of `capacity`.
    pub fn with_queue(name: &'static str, capacity: usize) -> StageClock {
        StageClock {
            queue: Some(QueueStats::new(capacity)),
            ..StageClock::new(name)
        }
    }

    /// How many frames wait in the input queue as the stage asks for the next.
    pub fn queued(&mut self, depth: usize) {
        if let Some(q) = &mut self.queue {
            q.sample(depth);
        }
    }

    pub fn waited_for_input(&mut self) {
        self.stats.waiting_input += self.laps.lap();
    }

    pub fn worked(&mut self) {
        self.stats.working += self.laps.lap();
    }

    pub fn waited_for_output(&mut self) {
        self.stats.waiting_output += self.laps.lap();
    }

    pub fn count_frame(&mut self) {
        self.stats.frames += 1;
    }

    pub fn frames(&self) -> u64 {
        self.stats.frames
    }

    pub fn finish(mut self) -> StageStats {
        self.stats.queue = self.queue;
        self.stats
    }
}

/// The table `--stats` prints: one line a stage.
pub fn render(stages: &[StageStats], seconds: f64) -> String {
    let mut out = format!(
        "{:<8} {:>7} {:>10} {:>14} {:>15} {:>14}\n",
        "stage", "frames", "working s", "wait input s", "wait output s", "input queue"
    );
    for s in stages {
        let queue = match &s.queue {
            Some(q) if q.capacity == 0 => "hand to hand".to_string(),
            Some(q) => format!("{:.1} avg {} max/{}", q.mean(), q.max, q.capacity),
            None => "-".to_string(),
        };
        let _ = writeln!(
            out,
            "{:<8} {:>7} {:>10.2} {:>14.2} {:>15.2} {:>14}",
            s.name,
            s.frames,
            s.working.as_secs_f64(),
            s.waiting_input.as_secs_f64(),
            s.waiting_output.as_secs_f64(),
            queue
        );
    }
    if let Some(busiest) = stages.iter().max_by_key(|s| s.working) {
        let share = busiest.working.as_secs_f64() / seconds.max(1e-9) * 100.0;
        let _ = writeln!(
            out,
            "busiest stage: {} (working {share:.0}% of the {seconds:.2} s run)",
            busiest.name
        );
    }
    out
}

/// The most memory the process has held resident so far (Linux's VmHWM, for the process's own
/// image since it started: the figure `/usr/bin/time` prints as maximum resident set size);
/// `None` where the system does not say.
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_means_and_the_busiest_stage() {
        let mut q = QueueStats::new(4);
        for d in [0, 4, 2] {
            q.sample(d);
        }
        assert_eq!((q.mean(), q.max, q.samples), (2.0, 4, 3));
        let stages = [
            StageStats {
                name: "decode",
                frames: 3,
                working: Duration::from_millis(500),
                waiting_output: Duration::from_millis(1500),
                ..StageStats::default()
            },
            StageStats {
                name: "filter",
                frames: 3,
                working: Duration::from_millis(1800),
                waiting_input: Duration::from_millis(200),
                queue: Some(q),
                ..StageStats::default()
            },
        ];
        let table = render(&stages, 2.0);
        assert!(table.contains("2.0 avg 4 max/4"), "{table}");
        assert!(
            table.contains("busiest stage: filter (working 90% of the 2.00 s run)"),
            "{table}"
        );
        assert_eq!(table.lines().count(), 4, "{table}");
    }
}
