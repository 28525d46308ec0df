//! The order a profile's units are handed out in: longest expected first
//! (tests with no history before them), shuffled (`--random`), or as a
//! list gives them (`--analyze-isolation`'s replays).

use std::cmp::Reverse;

use rustc_hash::FxHashMap as HashMap;

use super::spec::Order;
use super::unit::Unit;

/// Units in the order they are handed out.
pub fn ordered(units: Vec<Unit>, order: &Order) -> Vec<Unit> {
    match order {
        Order::LongestFirst => {
            let (mut unknown, mut known): (Vec<Unit>, Vec<Unit>) =
                units.into_iter().partition(|u| u.estimate.is_none());
            // Stable: equal estimates keep their listing order.
            known.sort_by_key(|u| Reverse(u.estimate));
            unknown.append(&mut known);
            unknown
        }
        Order::Random { seed } => {
            let mut units = units;
            fastrand::Rng::with_seed(*seed).shuffle(&mut units);
            units
        }
        Order::AsGiven(given) => {
            let position: HashMap<&str, usize> = given
                .iter()
                .enumerate()
                .map(|(at, id)| (id.as_str(), at))
                .collect();
            let mut units = units;
            // Stable: what the list does not name keeps its listing order.
            units.sort_by_key(|u| {
                u.ids
                    .iter()
                    .filter_map(|id| position.get(id.as_str()).copied())
                    .min()
                    .unwrap_or(usize::MAX)
            });
            units
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(names: &[&str], estimates: &[Option<i64>]) -> Vec<Unit> {
        names
            .iter()
            .zip(estimates)
            .map(|(name, estimate)| Unit {
                ids: vec![name.to_string()],
                estimate: *estimate,
            })
            .collect()
    }

    fn names(units: Vec<Unit>) -> Vec<String> {
        units.into_iter().map(|u| u.ids.join("+")).collect()
    }

    #[test]
    fn longest_first_after_the_tests_with_no_history() {
        let given = units(&["a", "b", "c", "d"], &[Some(10), Some(30), None, Some(20)]);
        assert_eq!(
            names(ordered(given, &Order::LongestFirst)),
            ["c", "b", "d", "a"]
        );
    }

    #[test]
    fn a_random_order_is_a_shuffle_of_every_unit() {
        let listed: Vec<String> = (0..50).map(|i| format!("t{i:02}")).collect();
        let refs: Vec<&str> = listed.iter().map(String::as_str).collect();
        let shuffled = names(ordered(
            units(&refs, &[None; 50]),
            &Order::Random { seed: 7 },
        ));
        assert_ne!(
            shuffled, listed,
            "50 tests shuffled are not in listing order"
        );
        let mut sorted = shuffled;
        sorted.sort();
        assert_eq!(sorted, listed);
    }

    #[test]
    fn a_given_order_is_followed_and_the_rest_comes_last() {
        let given = units(&["a", "b", "c", "d"], &[Some(10), Some(30), None, None]);
        let order = Order::AsGiven(["c", "a", "b"].map(String::from).to_vec());
        assert_eq!(names(ordered(given, &order)), ["c", "a", "b", "d"]);
    }
}
