//! The Merkle tree of RFC 6962 / RFC 9162 (Certificate Transparency), pure and without I/O.
//!
//! Why this exact construction: a log that any third party (an auditor, a court, another province)
//! can check with an off-the-shelf Certificate Transparency verifier proves more than a home-grown
//! one. So the leaf and node prefixes (`0x00`, `0x01`), the split at the largest power of two
//! *smaller* than `n`, and the proof algorithms (`PATH`, `PROOF`/`SUBPROOF`, and the verification
//! procedures of RFC 9162 §2.1.3.2 and §2.1.4.2) are followed literally. Only the hash function may
//! be swapped: SHA-256 (the RFC's) or SM3 (GM/T 0004-2012, 国密 SM3) where national cryptography
//! rules (商用密码应用安全性评估) require it.
//!
//! Indexes in this module are 0-based, as in the RFCs; the log's `seq` is 1-based (`seq = index + 1`).

use serde::{Deserialize, Serialize};
use sha2::Digest;

/// A 32-byte digest (both SHA-256 and SM3 produce 32 bytes).
pub type Hash = [u8; 32];

/// The hash function of a log. Fixed when the log is created (stored in `audit_meta`), because
/// every leaf hash, every chain value and every signed root depend on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashAlgorithm {
    /// SHA-256, as in RFC 6962. The default.
    #[default]
    Sha256,
    /// SM3 (国密杂凑算法, GM/T 0004-2012).
    Sm3,
}

impl HashAlgorithm {
    /// The stable code stored in the database and printed in reports.
    pub fn code(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sm3 => "sm3",
        }
    }

    /// Parses [`HashAlgorithm::code`].
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "sha256" => Some(HashAlgorithm::Sha256),
            "sm3" => Some(HashAlgorithm::Sm3),
            _ => None,
        }
    }

    /// The digest of the concatenation of `parts`.
    pub fn digest(self, parts: &[&[u8]]) -> Hash {
        match self {
            HashAlgorithm::Sha256 => {
                let mut h = sha2::Sha256::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().into()
            }
            HashAlgorithm::Sm3 => {
                let mut h = sm3::Sm3::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().into()
            }
        }
    }

    /// The root of the empty tree: `HASH()`.
    pub fn empty_root(self) -> Hash {
        self.digest(&[])
    }

    /// `MTH({d}) = HASH(0x00 || d)`: the prefix keeps a leaf from ever equalling an inner node
    /// (second-preimage protection).
    pub fn leaf_hash(self, data: &[u8]) -> Hash {
        self.digest(&[&[0x00], data])
    }

    /// `HASH(0x01 || left || right)`.
    pub fn node_hash(self, left: &Hash, right: &Hash) -> Hash {
        self.digest(&[&[0x01], left, right])
    }
}

/// Why a proof could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// 0-based leaf index asked for.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// A consistency proof was asked for sizes `m > n`, or beyond the leaves available.
    #[error("no consistency proof from size {m} to size {n} (available leaves: {available})")]
    BadSizes {
        /// The older size.
        m: u64,
        /// The newer size.
        n: u64,
        /// How many leaves the caller supplied.
        available: u64,
    },
}

/// The largest power of two smaller than `n` (`n >= 2`): RFC 6962's split point `k`.
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1usize << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// `MTH(D[n])` over leaf hashes.
pub fn root(alg: HashAlgorithm, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => alg.empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            alg.node_hash(&root(alg, &leaves[..k]), &root(alg, &leaves[k..]))
        }
    }
}

/// The audit path `PATH(m, D[n])` of the leaf at 0-based `index` in the tree of all `leaves`.
pub fn inclusion_proof(
    alg: HashAlgorithm,
    leaves: &[Hash],
    index: u64,
) -> Result<Vec<Hash>, ProofError> {
    let size = leaves.len() as u64;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    path(alg, index as usize, leaves, &mut out);
    Ok(out)
}

fn path(alg: HashAlgorithm, m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(alg, m, &leaves[..k], out);
        out.push(root(alg, &leaves[k..]));
    } else {
        path(alg, m - k, &leaves[k..], out);
        out.push(root(alg, &leaves[..k]));
    }
}

/// RFC 9162 §2.1.3.2: does `proof` show that `leaf_hash` is the leaf at `index` of the tree of
/// `size` leaves whose root is `root`?
pub fn verify_inclusion(
    alg: HashAlgorithm,
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = alg.node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = alg.node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// The consistency proof `PROOF(m, D[n])` between the first `m` leaves and all `leaves`
/// (`n = leaves.len()`). Empty when `m == 0` or `m == n`.
pub fn consistency_proof(
    alg: HashAlgorithm,
    leaves: &[Hash],
    m: u64,
) -> Result<Vec<Hash>, ProofError> {
    let n = leaves.len() as u64;
    if m > n {
        return Err(ProofError::BadSizes { m, n, available: n });
    }
    let mut out = Vec::new();
    if m > 0 && m < n {
        subproof(alg, m as usize, leaves, true, &mut out);
    }
    Ok(out)
}

fn subproof(alg: HashAlgorithm, m: usize, leaves: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root(alg, leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(alg, m, &leaves[..k], complete, out);
        out.push(root(alg, &leaves[k..]));
    } else {
        subproof(alg, m - k, &leaves[k..], false, out);
        out.push(root(alg, &leaves[..k]));
    }
}

/// RFC 9162 §2.1.4.2: does `proof` show that the tree of size `m` with root `root_m` is a prefix
/// of the tree of size `n` with root `root_n`? The degenerate cases follow the CT reference
/// verifier: `m == n` needs an empty proof and equal roots; `m == 0` needs an empty proof.
pub fn verify_consistency(
    alg: HashAlgorithm,
    m: u64,
    n: u64,
    root_m: &Hash,
    root_n: &Hash,
    proof: &[Hash],
) -> bool {
    if m > n {
        return false;
    }
    if m == n {
        return proof.is_empty() && root_m == root_n;
    }
    if m == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if m.is_power_of_two() {
        path.push(*root_m);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (m - 1, n - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = alg.node_hash(c, &fr);
            sr = alg.node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = alg.node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *root_m && sr == *root_n && sn == 0
}

/// The compact right frontier of a growing tree: the roots of its maximal perfect subtrees,
/// left to right. Appending costs amortised O(1) hashes and the root O(log n), so the writer can
/// sign a tree head of millions of entries without rehashing (or rereading) the whole log.
#[derive(Clone, Debug, Default)]
pub struct Frontier {
    size: u64,
    /// `(height, hash)` of each perfect subtree; heights strictly decrease.
    nodes: Vec<(u32, Hash)>,
}

impl Frontier {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, alg: HashAlgorithm, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(h, left)) = self.nodes.last() {
            if h != node.0 {
                break;
            }
            self.nodes.pop();
            node = (h + 1, alg.node_hash(&left, &node.1));
        }
        self.nodes.push(node);
        self.size += 1;
    }

    /// `MTH` of the leaves pushed so far: folding the perfect subtrees from the right gives
    /// exactly RFC 6962's split at the largest power of two.
    pub fn root(&self, alg: HashAlgorithm) -> Hash {
        let mut iter = self.nodes.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return alg.empty_root();
        };
        for (_, left) in iter {
            acc = alg.node_hash(left, &acc);
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Hash {
        let v = hex::decode(s).unwrap();
        v.try_into().unwrap()
    }

    /// The Certificate Transparency reference leaves (merkle_tree_test.cc / RFC 6962 test data).
    fn ct_leaves() -> Vec<Hash> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|d| HashAlgorithm::Sha256.leaf_hash(&hex::decode(d).unwrap()))
        .collect()
    }

    const CT_ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    const SHA: HashAlgorithm = HashAlgorithm::Sha256;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            hex::encode(root(SHA, &[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(Frontier::new().root(SHA)),
            hex::encode(root(SHA, &[]))
        );
    }

    #[test]
    fn ct_reference_roots() {
        let leaves = ct_leaves();
        let mut f = Frontier::new();
        for n in 1..=8 {
            assert_eq!(
                hex::encode(root(SHA, &leaves[..n])),
                CT_ROOTS[n - 1],
                "size {n}"
            );
            f.push(SHA, leaves[n - 1]);
            assert_eq!(
                hex::encode(f.root(SHA)),
                CT_ROOTS[n - 1],
                "frontier size {n}"
            );
        }
    }

    #[test]
    fn ct_reference_inclusion_proofs() {
        let leaves = ct_leaves();
        // (0-based index, tree size, path) from the CT reference tests.
        let cases: [(u64, usize, &[&str]); 4] = [
            (
                0,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (index, size, want) in cases {
            let got = inclusion_proof(SHA, &leaves[..size], index).unwrap();
            let got_hex: Vec<String> = got.iter().map(hex::encode).collect();
            assert_eq!(got_hex, want, "path({index}, {size})");
            let r = h(CT_ROOTS[size - 1]);
            assert!(verify_inclusion(
                SHA,
                &leaves[index as usize],
                index,
                size as u64,
                &got,
                &r
            ));
        }
        assert!(inclusion_proof(SHA, &leaves[..1], 0).unwrap().is_empty());
        assert!(inclusion_proof(SHA, &leaves[..3], 3).is_err());
    }

    #[test]
    fn ct_reference_consistency_proofs() {
        let leaves = ct_leaves();
        let cases: [(u64, usize, &[&str]); 4] = [
            (1, 1, &[]),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (m, n, want) in cases {
            let got = consistency_proof(SHA, &leaves[..n], m).unwrap();
            let got_hex: Vec<String> = got.iter().map(hex::encode).collect();
            assert_eq!(got_hex, want, "proof({m}, {n})");
            let (rm, rn) = (h(CT_ROOTS[m as usize - 1]), h(CT_ROOTS[n - 1]));
            assert!(verify_consistency(SHA, m, n as u64, &rm, &rn, &got));
            if !got.is_empty() {
                assert!(!verify_consistency(SHA, m, n as u64, &rn, &rm, &got));
                assert!(!verify_consistency(SHA, m, n as u64, &rm, &rn, &got[1..]));
            }
        }
        let empty = root(SHA, &[]);
        assert!(verify_consistency(SHA, 0, 8, &empty, &h(CT_ROOTS[7]), &[]));
        assert!(!verify_consistency(
            SHA,
            6,
            8,
            &h(CT_ROOTS[5]),
            &h(CT_ROOTS[7]),
            &[]
        ));
        assert!(consistency_proof(SHA, &leaves[..3], 4).is_err());
    }

    #[test]
    fn sm3_is_gm_t_0004_and_differs_from_sha256() {
        // GM/T 0004-2012 Appendix A example 1: SM3("abc").
        assert_eq!(
            hex::encode(HashAlgorithm::Sm3.digest(&[b"abc"])),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        let leaves = ct_leaves();
        assert_ne!(root(HashAlgorithm::Sm3, &leaves), root(SHA, &leaves));
    }
}
