//! Sets of JetStream stream sequences, kept in each lake file's footer
//! (`showrunner.seqs`) as sorted ranges: `"1-5,7,9-12"`.

/// A set of sequences as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqSet {
    ranges: Vec<(u64, u64)>,
}

impl SeqSet {
    /// The set of these sequences (any order, repeats allowed).
    pub fn from_seqs(seqs: &[u64]) -> Self {
        let mut v = seqs.to_vec();
        v.sort_unstable();
        v.dedup();
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for s in v {
            match ranges.last_mut() {
                Some((_, hi)) if *hi + 1 == s => *hi = s,
                _ => ranges.push((s, s)),
            }
        }
        Self { ranges }
    }

    /// Membership.
    pub fn contains(&self, seq: u64) -> bool {
        let i = self.ranges.partition_point(|&(_, hi)| hi < seq);
        self.ranges.get(i).is_some_and(|&(lo, _)| lo <= seq)
    }

    /// Number of sequences.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|(lo, hi)| hi - lo + 1).sum()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Smallest and largest sequence.
    pub fn bounds(&self) -> Option<(u64, u64)> {
        Some((self.ranges.first()?.0, self.ranges.last()?.1))
    }

    /// Whether every sequence of `self` is in `other`.
    pub fn is_subset(&self, other: &SeqSet) -> bool {
        self.ranges.iter().all(|&(lo, hi)| {
            let i = other.ranges.partition_point(|&(_, h)| h < lo);
            other
                .ranges
                .get(i)
                .is_some_and(|&(l, h)| l <= lo && hi <= h)
        })
    }

    /// The union of two sets.
    pub fn union(&self, other: &SeqSet) -> SeqSet {
        let mut all: Vec<(u64, u64)> = self.ranges.iter().chain(&other.ranges).copied().collect();
        all.sort_unstable();
        let mut ranges: Vec<(u64, u64)> = Vec::with_capacity(all.len());
        for (lo, hi) in all {
            match ranges.last_mut() {
                Some((_, h)) if lo <= h.saturating_add(1) => *h = (*h).max(hi),
                _ => ranges.push((lo, hi)),
            }
        }
        SeqSet { ranges }
    }

    /// `"1-5,7,9-12"`.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.ranges.len() * 12);
        for (i, (lo, hi)) in self.ranges.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if lo == hi {
                out.push_str(&lo.to_string());
            } else {
                out.push_str(&format!("{lo}-{hi}"));
            }
        }
        out
    }

    /// Parses [`encode`](Self::encode)'s output.
    pub fn decode(s: &str) -> Option<Self> {
        let mut ranges = Vec::new();
        for part in s.split(',').filter(|p| !p.is_empty()) {
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                None => {
                    let v = part.parse().ok()?;
                    (v, v)
                }
            };
            if hi < lo {
                return None;
            }
            ranges.push((lo, hi));
        }
        Some(Self { ranges })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_coalesce_and_round_trip() {
        let s = SeqSet::from_seqs(&[9, 1, 2, 3, 4, 5, 7, 10, 11, 12, 3]);
        assert_eq!(s.encode(), "1-5,7,9-12");
        assert_eq!(SeqSet::decode(&s.encode()), Some(s.clone()));
        assert_eq!(s.len(), 10);
        assert_eq!(s.bounds(), Some((1, 12)));
        for x in [1, 5, 7, 9, 12] {
            assert!(s.contains(x));
        }
        for x in [0, 6, 8, 13] {
            assert!(!s.contains(x));
        }
        assert!(SeqSet::decode("5-1").is_none());
        let a = SeqSet::from_seqs(&[1, 2, 3, 10]);
        let b = SeqSet::from_seqs(&[4, 5, 11, 20]);
        let u = a.union(&b);
        assert_eq!(u.encode(), "1-5,10-11,20");
        assert!(a.is_subset(&u) && b.is_subset(&u) && !u.is_subset(&a));
        assert!(SeqSet::default().is_subset(&a));
        assert!(!SeqSet::from_seqs(&[6]).is_subset(&u));
        assert!(SeqSet::decode("x").is_none());
    }
}
