//! The tests handed to one worker and not finished yet, in the order they
//! were sent, with running totals of the work they are expected to take so
//! that the dispatcher's questions (how much does this worker hold? how
//! much has it not started?) cost nothing per packet.

use std::collections::VecDeque;

use super::schedule::{TestCost, weight};

/// One test handed to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    pub id: String,
    /// Nanoseconds expected, when the test has a history.
    pub estimate: Option<i64>,
    pub started: bool,
}

/// Expected work: the sum of known estimates (and of their weights, see
/// `schedule::weight`), how many tests have none (what they take is
/// learned as the run goes, so it is not summed here), and how many tests
/// there are in all (each costs the worker its overhead).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    pub known_nanos: i64,
    pub known_weight: i64,
    pub unknown: usize,
    pub tests: usize,
}

impl Load {
    fn add(&mut self, estimate: Option<i64>) {
        self.tests += 1;
        match estimate {
            Some(nanos) => {
                self.known_nanos += nanos;
                self.known_weight += weight(nanos);
            }
            None => self.unknown += 1,
        }
    }

    fn remove(&mut self, estimate: Option<i64>) {
        self.tests -= 1;
        match estimate {
            Some(nanos) => {
                self.known_nanos -= nanos;
                self.known_weight -= weight(nanos);
            }
            None => self.unknown -= 1,
        }
    }

    /// In nanoseconds, at `cost` for what history does not know.
    pub fn nanos(self, cost: TestCost) -> i64 {
        self.known_nanos
            + self.unknown as i64 * cost.unknown_nanos
            + self.tests as i64 * cost.overhead
    }

    /// By weight, at `cost` for what history does not know.
    pub fn weight(self, cost: TestCost) -> i64 {
        self.known_weight
            + self.unknown as i64 * weight(cost.unknown_nanos)
            + self.tests as i64 * cost.overhead
    }
}

/// A worker's unfinished tests.
#[derive(Debug, Default)]
pub struct Assignments {
    tests: VecDeque<Assigned>,
    /// Every unfinished test.
    held: Load,
    /// The tests not started yet.
    ahead: Load,
    unstarted: usize,
}

impl Assignments {
    pub fn push(&mut self, id: String, estimate: Option<i64>) {
        self.held.add(estimate);
        self.ahead.add(estimate);
        self.unstarted += 1;
        self.tests.push_back(Assigned {
            id,
            estimate,
            started: false,
        });
    }

    /// The worker reported starting `id`.
    pub fn start(&mut self, id: &str) {
        if let Some(test) = self.tests.iter_mut().find(|a| !a.started && a.id == id) {
            test.started = true;
            self.ahead.remove(test.estimate);
            self.unstarted -= 1;
        }
    }

    /// The worker reported `id` finished.
    pub fn finish(&mut self, id: &str) {
        if let Some(at) = self.tests.iter().position(|a| a.id == id) {
            let test = self.tests.remove(at).expect("the position is in range");
            self.held.remove(test.estimate);
            if !test.started {
                self.ahead.remove(test.estimate);
                self.unstarted -= 1;
            }
        }
    }

    /// Empties the queue, giving back the tests that never started.
    pub fn take_unstarted(&mut self) -> Vec<Assigned> {
        let unstarted = self.tests.drain(..).filter(|a| !a.started).collect();
        *self = Assignments::default();
        unstarted
    }

    pub fn is_empty(&self) -> bool {
        self.tests.is_empty()
    }

    pub fn len(&self) -> usize {
        self.tests.len()
    }

    pub fn unstarted(&self) -> usize {
        self.unstarted
    }

    /// The work of every unfinished test.
    pub fn held(&self) -> Load {
        self.held
    }

    /// The work of the tests not started.
    pub fn ahead(&self) -> Load {
        self.ahead
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_follow_tests_starting_and_finishing() {
        let cost = |unknown_nanos, overhead| TestCost {
            unknown_nanos,
            overhead,
        };
        let mut queue = Assignments::default();
        queue.push("a".into(), Some(10));
        queue.push("b".into(), None);
        queue.push("c".into(), Some(5));
        assert_eq!(queue.held().nanos(cost(100, 0)), 115);
        assert_eq!(
            queue.held().nanos(cost(100, 1)),
            118,
            "each test's overhead"
        );
        queue.start("a");
        assert_eq!(queue.ahead().nanos(cost(100, 0)), 105);
        assert_eq!(queue.unstarted(), 2);
        queue.finish("a");
        // A test can finish without having been seen to start.
        queue.finish("b");
        assert_eq!(queue.held().nanos(cost(100, 0)), 5);
        assert_eq!(
            queue.held().weight(cost(100, 0)),
            5,
            "a tiny test weighs its time"
        );
        queue.push("d".into(), Some(1_000_000));
        assert_eq!(
            queue.held().weight(cost(100, 0)),
            4_000_005,
            "others four times over"
        );
        assert_eq!(queue.held().weight(cost(100, 2)), 4_000_009);
        assert_eq!(queue.ahead(), queue.held());
        assert_eq!(queue.len(), 2);
        let rest = queue.take_unstarted();
        assert_eq!(
            rest.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["c", "d"]
        );
        assert!(queue.is_empty());
        assert_eq!(queue.held(), Load::default());
    }
}
