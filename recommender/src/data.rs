//! Interactions: who watched what, with the ids of the outside world mapped
//! to dense indices, and the seeded per-user split of the evaluation
//! protocol.

use std::collections::HashMap;
use std::path::Path;

use linfa::dataset::Records;
use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::error::{Error, Result};

/// Users × items, implicit positives, each user's items sorted and unique.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserItems {
    /// Per user (dense index), the items (dense indices) they interacted with.
    pub rows: Vec<Vec<u32>>,
    /// Number of items (columns).
    pub n_items: usize,
    /// Per user, the weight of each item of its row (same order); empty
    /// when every interaction weighs 1 (MovieLens, TSV files).
    pub weights: Vec<Vec<f32>>,
}

impl Records for UserItems {
    type Elem = f32;

    fn nsamples(&self) -> usize {
        self.rows.len()
    }

    fn nfeatures(&self) -> usize {
        self.n_items
    }
}

impl UserItems {
    /// A matrix of unweighted positives.
    pub fn binary(rows: Vec<Vec<u32>>, n_items: usize) -> Self {
        UserItems {
            rows,
            n_items,
            weights: Vec::new(),
        }
    }

    /// The weight of the `k`-th item of user `u`'s row (1 when unweighted).
    pub fn weight(&self, u: usize, k: usize) -> f32 {
        self.weights.get(u).map_or(1.0, |w| w[k])
    }

    /// Number of interactions.
    pub fn nnz(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }
}

/// Interactions with their id maps.
#[derive(Debug, Clone, Default)]
pub struct Interactions {
    /// External user ids, by dense index.
    pub users: Vec<String>,
    /// External item ids, by dense index.
    pub items: Vec<String>,
    /// The matrix.
    pub matrix: UserItems,
}

/// Accumulates (user, item) pairs with id maps.
#[derive(Default)]
struct Builder {
    users: HashMap<String, u32>,
    items: HashMap<String, u32>,
    out: Interactions,
}

impl Builder {
    fn user(&mut self, u: &str) -> u32 {
        if let Some(i) = self.users.get(u) {
            return *i;
        }
        let i = self.out.users.len() as u32;
        self.users.insert(u.to_owned(), i);
        self.out.users.push(u.to_owned());
        self.out.matrix.rows.push(Vec::new());
        i
    }

    fn item(&mut self, it: &str) -> u32 {
        if let Some(i) = self.items.get(it) {
            return *i;
        }
        let i = self.out.items.len() as u32;
        self.items.insert(it.to_owned(), i);
        self.out.items.push(it.to_owned());
        i
    }

    fn add(&mut self, u: &str, it: &str) {
        let (u, it) = (self.user(u), self.item(it));
        self.out.matrix.rows[u as usize].push(it);
    }

    /// The interactions with users and items indexed in the order of their
    /// ids (as strings), so that indices, and so ties and the seeded split,
    /// do not depend on the order of the input lines.
    fn finish(self) -> Interactions {
        let Interactions {
            users,
            items,
            matrix,
        } = self.out;
        let mut item_order: Vec<u32> = (0..items.len() as u32).collect();
        item_order.sort_by(|a, b| items[*a as usize].cmp(&items[*b as usize]));
        let mut new_index = vec![0u32; items.len()];
        for (new, old) in item_order.iter().enumerate() {
            new_index[*old as usize] = new as u32;
        }
        let mut user_order: Vec<usize> = (0..users.len()).collect();
        user_order.sort_by(|a, b| users[*a].cmp(&users[*b]));
        let rows = user_order
            .iter()
            .map(|u| {
                let mut r: Vec<u32> = matrix.rows[*u]
                    .iter()
                    .map(|i| new_index[*i as usize])
                    .collect();
                r.sort_unstable();
                r.dedup();
                r
            })
            .collect();
        Interactions {
            users: user_order.iter().map(|u| users[*u].clone()).collect(),
            items: item_order
                .iter()
                .map(|i| items[*i as usize].clone())
                .collect(),
            matrix: UserItems {
                rows,
                n_items: items.len(),
                weights: Vec::new(),
            },
        }
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Io(path.display().to_string(), e))
}

impl Interactions {
    /// A RecBole `.inter` file: a header naming `user_id:…` and `item_id:…`
    /// columns (others ignored), then tab-separated rows. Ids are arbitrary
    /// strings (titles with spaces and quotes included).
    pub fn from_recbole(path: &Path) -> Result<Interactions> {
        let text = read(path)?;
        let name = path.display().to_string();
        let mut lines = text.lines();
        let header = lines
            .next()
            .ok_or_else(|| Error::Parse(name.clone(), 1, "empty file".into()))?;
        let col = |want: &str| {
            header
                .split('\t')
                .position(|h| h.split(':').next() == Some(want))
                .ok_or_else(|| {
                    Error::Parse(name.clone(), 1, format!("no `{want}` column in the header"))
                })
        };
        let (uc, ic) = (col("user_id")?, col("item_id")?);
        let mut b = Builder::default();
        for (n, line) in lines.enumerate() {
            if line.is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split('\t').collect();
            match (f.get(uc), f.get(ic)) {
                (Some(u), Some(i)) => b.add(u, i),
                _ => {
                    return Err(Error::Parse(
                        name,
                        n + 2,
                        "missing user or item column".into(),
                    ));
                }
            }
        }
        Ok(b.finish())
    }

    /// A `user<TAB>item` file without header.
    pub fn from_tsv(path: &Path) -> Result<Interactions> {
        let mut b = Builder::default();
        Self::from_tsv_with(path, &mut b)?;
        Ok(b.finish())
    }

    fn from_tsv_with(path: &Path, b: &mut Builder) -> Result<()> {
        let text = read(path)?;
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            let Some((u, i)) = line.split_once('\t') else {
                return Err(Error::Parse(
                    path.display().to_string(),
                    n + 1,
                    "expected user<TAB>item".into(),
                ));
            };
            b.add(u, i.split('\t').next().unwrap_or(i));
        }
        Ok(())
    }

    /// A train file and a test file made elsewhere, with shared id maps:
    /// (all, train, test) where train and test are matrices over the same
    /// users and items.
    pub fn from_split_tsv(
        train: &Path,
        test: &Path,
    ) -> Result<(Interactions, UserItems, UserItems)> {
        let mut b = Builder::default();
        Self::from_tsv_with(train, &mut b)?;
        let train_pairs: Vec<(String, String)> = b
            .out
            .matrix
            .rows
            .iter()
            .enumerate()
            .flat_map(|(u, r)| {
                let user = b.out.users[u].clone();
                r.iter().map(move |i| (user.clone(), *i))
            })
            .map(|(u, i)| (u, b.out.items[i as usize].clone()))
            .collect();
        Self::from_tsv_with(test, &mut b)?;
        let all = b.finish();
        let user_ix: HashMap<&str, usize> = all
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.as_str(), i))
            .collect();
        let item_ix: HashMap<&str, u32> = all
            .items
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u32))
            .collect();
        let n_items = all.items.len();
        let mut tr = UserItems {
            rows: vec![Vec::new(); all.users.len()],
            n_items,
            weights: Vec::new(),
        };
        for (u, i) in &train_pairs {
            tr.rows[user_ix[u.as_str()]].push(item_ix[i.as_str()]);
        }
        for r in &mut tr.rows {
            r.sort_unstable();
            r.dedup();
        }
        let te = UserItems {
            rows: all
                .matrix
                .rows
                .iter()
                .zip(&tr.rows)
                .map(|(a, t)| {
                    a.iter()
                        .copied()
                        .filter(|i| t.binary_search(i).is_err())
                        .collect()
                })
                .collect(),
            n_items,
            weights: Vec::new(),
        };
        Ok((all, tr, te))
    }

    /// The evaluation split: per user, a seeded random 20 % of the items go
    /// to test (rounded, at least one); users with fewer than 5 items stay
    /// whole in train. Returns (train, test).
    pub fn split(m: &UserItems, test_fraction: f64, seed: u64) -> (UserItems, UserItems) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let weighted = !m.weights.is_empty();
        let mut train = UserItems::binary(Vec::new(), m.n_items);
        let mut test = UserItems::binary(Vec::new(), m.n_items);
        for (u, row) in m.rows.iter().enumerate() {
            let mut pos: Vec<usize> = (0..row.len()).collect();
            let k = if row.len() < 5 {
                0
            } else {
                pos.shuffle(&mut rng);
                ((row.len() as f64 * test_fraction).round() as usize).max(1)
            };
            for (part, keep) in [(&mut test, &pos[..k]), (&mut train, &pos[k..])] {
                let mut keep = keep.to_vec();
                keep.sort_unstable_by_key(|&p| row[p]);
                part.rows.push(keep.iter().map(|&p| row[p]).collect());
                if weighted {
                    part.weights
                        .push(keep.iter().map(|&p| m.weight(u, p)).collect());
                }
            }
        }
        (train, test)
    }
}
