//! "Did you mean …?": the declared name nearest to a mistyped one, by edit distance.

/// The candidate closest to `typed`, if it is close enough to be what was meant: at most
/// two edits, and fewer than half the word.
pub fn closest<'c>(typed: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (typed.chars().count() / 2).clamp(1, 2);
    candidates
        .into_iter()
        .map(|c| (distance(typed, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, with a swap of two neighbours counted as one edit (`lsit`).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_names_are_suggested_and_far_ones_are_not() {
        assert_eq!(distance("lsit", "list"), 1);
        assert_eq!(distance("per-pag", "per-page"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(closest("lsit", ["get", "list", "wait"]), Some("list"));
        assert_eq!(
            closest("per-pag", ["page", "per-page", "customer"]),
            Some("per-page")
        );
        assert_eq!(closest("xyz", ["list", "get"]), None);
        assert_eq!(closest("ab", ["get"]), None, "two letters allow one edit");
    }
}
