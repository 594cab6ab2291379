//! Property tests of the RFC 6962 tree: proofs verify for every leaf and every pair of sizes, and
//! fail as soon as anything in them changes.

use creditloop_audit::merkle::{
    self, Frontier, Hash, HashAlgorithm, consistency_proof, inclusion_proof, verify_consistency,
    verify_inclusion,
};
use proptest::prelude::*;

fn leaves(alg: HashAlgorithm, n: usize, salt: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| alg.leaf_hash(format!("leaf {salt} {i}").as_bytes()))
        .collect()
}

fn alg_strategy() -> impl Strategy<Value = HashAlgorithm> {
    prop_oneof![Just(HashAlgorithm::Sha256), Just(HashAlgorithm::Sm3)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_inclusion_proof_verifies(alg in alg_strategy(), n in 1usize..130, salt in any::<u64>()) {
        let ls = leaves(alg, n, salt);
        let root = merkle::root(alg, &ls);
        let mut f = Frontier::new();
        for l in &ls {
            f.push(alg, *l);
        }
        prop_assert_eq!(f.root(alg), root);
        for i in 0..n {
            let p = inclusion_proof(alg, &ls, i as u64).unwrap();
            prop_assert!(verify_inclusion(alg, &ls[i], i as u64, n as u64, &p, &root));
        }
    }

    #[test]
    fn every_consistency_proof_verifies(alg in alg_strategy(), n in 0usize..130, m_frac in 0.0f64..=1.0, salt in any::<u64>()) {
        let m = ((n as f64) * m_frac).floor() as usize;
        let ls = leaves(alg, n, salt);
        let p = consistency_proof(alg, &ls, m as u64).unwrap();
        let (rm, rn) = (merkle::root(alg, &ls[..m]), merkle::root(alg, &ls));
        prop_assert!(verify_consistency(alg, m as u64, n as u64, &rm, &rn, &p));
        if m > 0 && m < n {
            // The old tree with one leaf changed is not a prefix of the new one.
            let mut changed = ls[..m].to_vec();
            changed[m / 2] = alg.leaf_hash(b"changed");
            let rc = merkle::root(alg, &changed);
            prop_assert!(!verify_consistency(alg, m as u64, n as u64, &rc, &rn, &p));
        }
    }

    #[test]
    fn a_changed_leaf_or_path_fails(alg in alg_strategy(), n in 2usize..130, pick in any::<prop::sample::Index>(), salt in any::<u64>()) {
        let ls = leaves(alg, n, salt);
        let i = pick.index(n);
        let root = merkle::root(alg, &ls);
        let p = inclusion_proof(alg, &ls, i as u64).unwrap();
        let other = alg.leaf_hash(b"not in the log");
        prop_assert!(!verify_inclusion(alg, &other, i as u64, n as u64, &p, &root));
        // The same proof for a neighbouring index fails too.
        let j = (i + 1) % n;
        if ls[j] != ls[i] {
            prop_assert!(!verify_inclusion(alg, &ls[i], j as u64, n as u64, &p, &root));
        }
        // A flipped bit anywhere in the path fails.
        for k in 0..p.len() {
            let mut bad = p.clone();
            bad[k][0] ^= 1;
            prop_assert!(!verify_inclusion(alg, &ls[i], i as u64, n as u64, &bad, &root));
        }
        // After the leaf changed in the tree, the old root no longer accepts the new leaf.
        let mut changed = ls.clone();
        changed[i] = other;
        let p2 = inclusion_proof(alg, &changed, i as u64).unwrap();
        prop_assert!(!verify_inclusion(alg, &other, i as u64, n as u64, &p2, &root));
    }
}
