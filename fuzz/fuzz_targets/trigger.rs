//! Trigger cells (触发条件) on arbitrary text (docs/fuzzing.md, target `trigger`).
//!
//! Invariants: no panic; a parsed list formats to a cell that parses back to the same list; one
//! trigger's canonical text parses back to it; every error names the text and a reason in both
//! languages.
#![no_main]

use creditloop_domain::catalogue::Trigger;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match Trigger::parse_list(s) {
        Ok(list) => {
            let cell = Trigger::format_list(&list);
            let again = Trigger::parse_list(&cell)
                .unwrap_or_else(|e| panic!("formatted cell {cell:?} does not parse: {e:?}"));
            assert_eq!(again, list, "cell {s:?} formatted as {cell:?}");
            for t in &list {
                let _ = t.describe_zh();
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in errors {
                assert!(!e.reason_zh.is_empty() && !e.reason_en.is_empty());
            }
        }
    }
    // One trigger, as a JSON catalogue holds it (a string per trigger, not split on `;`).
    if let Ok(t) = s.parse::<Trigger>() {
        let text = t.to_string();
        let back: Trigger = text
            .parse()
            .unwrap_or_else(|e| panic!("canonical {text:?} does not parse: {e}"));
        assert_eq!(back, t, "trigger {s:?} written as {text:?}");
        // A catalogue read from JSON and exported to CSV/XLSX writes its triggers as one cell.
        let cell = Trigger::format_list(std::slice::from_ref(&t));
        let list = Trigger::parse_list(&cell)
            .unwrap_or_else(|e| panic!("exported cell {cell:?} does not import: {e:?}"));
        assert_eq!(list, vec![t], "cell {cell:?}");
    }
});
