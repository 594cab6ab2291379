# The credit check of creditloop (`decide` in crates/domain/src/catalogue/decide.rs) written as a Rego
# policy: the yardstick of "what a generic policy engine gives" in the credit-check benchmark
# (crates/bench, binary `yardsticks`).
#
# The rules below are fixed; the catalogue is data. `creditloop_bench::rego::catalogue_data` generates
# `data.creditloop_catalogue` from `Catalogue::default_catalogue()` (or any catalogue), so the policy
# answers for exactly the measures `decide` uses:
#
#   windows:      the distinct look-back windows in months, e.g. [12, 36]
#   measures:     code → {kind, effect}; effect ranks priority 0 < normal 1 < strict 2 < restrict 3 < prohibit 4
#   by_scenario:  scenario code → [{code, kind, effect, valid_from, valid_to, triggers}]
#   a trigger:    {"type": "record", on_subject, on_persons, roles ([] = any role), categories,
#                  natures (["negative"] for punishments, the others for incentives), min_severity
#                  (rank, 0 = none), lists (list-name fragments, [] = any), within_months (null = any)}
#               | {"type": "absent", "months": N}        (no negative record within N months)
#               | {"type": "class", "classes": [...]}     (credit class)
#
# Input: {"scenario": "public_bidding", "on": "2025-06-30", "facts": SubjectFacts as serde writes it},
# i.e. exactly what `decide` sees: {subject, records: [FactRecord], persons: [[role, [FactRecord]]],
# established_on?, credit_class?}. Dates are ISO strings, which compare in calendar order.
#
# Output: data.creditloop.check.result = {"decision", "measures", "suppressed"}.
package creditloop.check

import rego.v1

cat := data.creditloop_catalogue

facts := input.facts

on := input.on

severity_rank := {"none": 0, "slight": 1, "general": 2, "serious": 3}

effect_name := ["priority", "normal", "strict", "restrict", "prohibit"]

# --- cut-off dates: `on` minus N months, the day clamped to the end of a shorter month (as chrono's
# `checked_sub_months`, which `decide` uses), computed once per evaluation for each window.

# (regorus's to_number refuses a leading zero, so "06" is trimmed to "6" first.)
on_y := to_number(substring(on, 0, 4))

on_m := to_number(trim_left(substring(on, 5, 2), "0"))

on_d := to_number(trim_left(substring(on, 8, 2), "0"))

leap(y) if {
	y % 4 == 0
	y % 100 != 0
}

leap(y) if y % 400 == 0

days_in_month(_, m) := 31 if m in {1, 3, 5, 7, 8, 10, 12}

days_in_month(_, m) := 30 if m in {4, 6, 9, 11}

days_in_month(y, 2) := 29 if leap(y)

days_in_month(y, 2) := 28 if not leap(y)

cutoff[months] := date if {
	some months in cat.windows
	total := ((on_y * 12) + on_m) - (1 + months)
	y := floor(total / 12)
	m := (total - (y * 12)) + 1
	d := min([on_d, days_in_month(y, m)])
	date := sprintf("%04d-%02d-%02d", [y, m, d])
}

# --- records and measures in force on the check date

# Only active records decided by `on` and still within their publicity window count (异议、修复、撤销、
# 失效 and out-of-window records never trigger a measure nor block an incentive).
in_force(r) if {
	r.status == "active"
	r.decision_date <= on
	on <= r.publicity_until
}

valid_on(m) if {
	m.valid_from <= on
	m.valid_to == null
}

valid_on(m) if {
	m.valid_from <= on
	m.valid_to != null
	on <= m.valid_to
}

# --- record triggers

within(t, _) if t.within_months == null

within(t, r) if r.decision_date >= cutoff[t.within_months]

listed(t, _) if count(t.lists) == 0

listed(t, r) if {
	some fragment in t.lists
	contains(r.list_name, fragment)
}

matches(t, r) if {
	r.category in t.categories
	r.nature in t.natures
	severity_rank[r.severity] >= t.min_severity
	within(t, r)
	listed(t, r)
}

role_ok(t, _) if count(t.roles) == 0

role_ok(t, role) if role in t.roles

holds(t) if {
	t.type == "record"
	t.on_subject
	some r in facts.records
	matches(t, r)
	in_force(r)
}

holds(t) if {
	t.type == "record"
	t.on_persons
	some p in facts.persons
	role_ok(t, p[0])
	some r in p[1]
	matches(t, r)
	in_force(r)
}

# --- absence of negative records (守信激励: N个月内无失信记录), for subjects that have existed N months

old_enough(_) if not facts.established_on

old_enough(months) if facts.established_on <= cutoff[months]

negative_since(date) if {
	some r in facts.records
	r.nature == "negative"
	r.decision_date >= date
	in_force(r)
}

holds(t) if {
	t.type == "absent"
	old_enough(t.months)
	not negative_since(cutoff[t.months])
}

# --- credit class

holds(t) if {
	t.type == "class"
	facts.credit_class in t.classes
}

# --- the decision

# Codes of the scenario's measures in force whose triggers (any of them) hold. An unknown subject
# (facts.subject == null) gets none.
held contains m.code if {
	facts.subject != null
	some m in cat.by_scenario[input.scenario]
	valid_on(m)
	some t in m.triggers
	holds(t)
}

punishments contains code if {
	some code in held
	cat.measures[code].kind == "punishment"
}

incentives contains code if {
	some code in held
	cat.measures[code].kind == "incentive"
}

# The strictest punishment; without one, the most favourable incentive; with nothing, normal.
decision := d if {
	count(punishments) > 0
	d := effect_name[max({cat.measures[c].effect | some c in punishments})]
} else := d if {
	count(incentives) > 0
	d := effect_name[min({cat.measures[c].effect | some c in incentives})]
} else := "normal"

# 失信主体不享受守信激励: incentives apply only when no punishment does.
measures := sort(punishments) if count(punishments) > 0 else := sort(incentives)

suppressed := sort(incentives) if count(punishments) > 0 else := []

result := {"decision": decision, "measures": measures, "suppressed": suppressed}
